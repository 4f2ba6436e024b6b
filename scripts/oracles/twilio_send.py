"""Sends texts with the official twilio package, for our tests of Twilio's Messages API double.

Reads {"base_url": str, "account_sid": str, "username": str, "password": str,
"messages": [{"to": str, "from": str, "body": str}]} on stdin (base_url replaces
https://api.twilio.com); writes one result per message: {"sid": str} when taken, or
{"status": int, "code": int} when the API refused it, as the package read its answer.
"""

import json
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client


def main() -> None:
    request = json.load(sys.stdin)
    client = Client(request["username"], request["password"], request["account_sid"])
    client.api.base_url = request["base_url"]
    results = []
    for m in request["messages"]:
        try:
            sent = client.messages.create(to=m["to"], from_=m["from"], body=m["body"])
            results.append({"sid": sent.sid, "body": sent.body})
        except TwilioRestException as e:
            results.append({"status": e.status, "code": e.code})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
