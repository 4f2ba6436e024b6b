"""Signs and validates webhook requests with the official twilio package, for our tests.

Reads {"token": str, "cases": [{"url": str, "params": [[name, value], ...], "signature": str}]}
on stdin; writes {"computed": [...], "valid": [...]}: the package's signature for each case,
and whether the package accepts each case's given signature.
"""

import json
import sys

from twilio.request_validator import RequestValidator


class Params(dict):
    """A form with repeated names, read the way the package reads Flask's MultiDict."""

    def __init__(self, pairs):
        super().__init__()
        self._pairs = pairs
        for name, value in pairs:
            self.setdefault(name, value)

    def getall(self, name):
        return [v for k, v in self._pairs if k == name]


def main() -> None:
    request = json.load(sys.stdin)
    validator = RequestValidator(request["token"])
    computed, valid = [], []
    for case in request["cases"]:
        params = Params([tuple(p) for p in case["params"]])
        computed.append(validator.compute_signature(case["url"], params))
        valid.append(bool(validator.validate(case["url"], params, case["signature"])))
    json.dump({"computed": computed, "valid": valid}, sys.stdout)


if __name__ == "__main__":
    main()
