"""HTTP Signatures: ours (cryptography, cached keys) against httpsig 1.3.0, in one run.

    .venv/bin/python bench/signatures.py

Each case runs for at most BUDGET seconds and LIMIT iterations, so the whole run takes a few
seconds (DESIGN.md "What costs what" quotes ~17 us to verify and ~220 us to sign with cryptography).
Ours does more per request than httpsig: it also checks the Date window and the body's Digest.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from httpsig.sign import HeaderSigner
from httpsig.verify import HeaderVerifier

from fedserver.activitypub import signatures, signatures_rfc9421
from fedserver.activitypub.keys import generate_key_pair

BUDGET = 0.6  # seconds per case
LIMIT = 50_000  # iterations per case
URL = "http://localhost:8001/users/bob/inbox"
PATH = "/users/bob/inbox"
KEY_ID = "http://localhost:8002/users/alice#main-key"
BODY = b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Like","actor":"http://localhost:8002/users/alice"}'
NAMES = ["(request-target)", "host", "date", "digest", "content-type"]


def per_second(action: Callable[[], object]) -> float:
    """Calls per second of `action`, within BUDGET seconds and LIMIT calls."""
    action()  # warm caches (keys.py parses each PEM once)
    count, started = 0, time.perf_counter()
    deadline = started + BUDGET
    while count < LIMIT and time.perf_counter() < deadline:
        action()
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    """Measure sign and verify with both implementations and print the ratios."""
    private_pem, public_pem = generate_key_pair()
    now = datetime.now(timezone.utc)
    ours_headers = signatures.sign_post(URL, BODY, KEY_ID, private_pem, now)
    unsigned = {k: v for k, v in ours_headers.items() if k != "Signature"}
    reused_signer = HeaderSigner(KEY_ID, private_pem, algorithm="rsa-sha256", headers=NAMES, sign_header="signature")

    def httpsig_sign_new() -> object:  # one signer per request, as with a key per actor
        signer = HeaderSigner(KEY_ID, private_pem, algorithm="rsa-sha256", headers=NAMES, sign_header="signature")
        return signer.sign(unsigned, method="POST", path=PATH)

    def httpsig_verify() -> object:  # HeaderVerifier takes the PEM, so it parses it every time
        verifier = HeaderVerifier(ours_headers, public_pem, required_headers=NAMES, method="POST", path=PATH,
                                  sign_header="signature")
        assert verifier.verify()
        return verifier

    rfc_headers = signatures_rfc9421.sign_rfc9421("POST", URL, {"Content-Type": signatures.ACTIVITY_JSON}, BODY,
                                                  KEY_ID, private_pem, now)
    rows = [
        ("sign", "ours", per_second(lambda: signatures.sign_post(URL, BODY, KEY_ID, private_pem, now)),
         [("httpsig, new signer", per_second(httpsig_sign_new)),
          ("httpsig, reused signer", per_second(lambda: reused_signer.sign(unsigned, method="POST", path=PATH)))]),
        ("verify", "ours", per_second(lambda: signatures.verify_request("POST", PATH, ours_headers, BODY, public_pem,
                                                                        now)),
         [("httpsig", per_second(httpsig_verify))]),
        ("verify", "ours, RFC 9421", per_second(lambda: signatures_rfc9421.verify_rfc9421(
            "POST", URL, rfc_headers, BODY, public_pem, now)), []),
    ]
    for operation, name, ours, others in rows:
        print(f"{operation:<7}{name:<24}{ours:>10,.0f}/s  {1e6 / ours:8.1f} us")
        for other_name, other in others:
            print(f"{'':<7}{other_name:<24}{other:>10,.0f}/s  {1e6 / other:8.1f} us   ours is {ours / other:5.1f}x")


if __name__ == "__main__":
    main()
