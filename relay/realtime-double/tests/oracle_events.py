"""Checks Realtime events against the official `openai` package's pydantic models.

Reads JSON lines from stdin, each `{"direction": "server" | "client", "event": {...}}`, and
validates server events with `RealtimeServerEvent` and client events with
`RealtimeClientEvent` from `openai.types.realtime`. The models accept unknown keys (they land in
`model_extra`), so passing validation is not enough: the parsed model is walked recursively and
any non-empty `model_extra` anywhere fails the event.

One deliberate refinement: the package types `session.created`/`session.updated`'s `session` as
the *request* model (`RealtimeSessionCreateRequest`), which has no `id`, `object` or
`expires_at`, although the real server sends them. Those session objects are therefore also
validated, strictly, against the package's own model of a server-issued session,
`RealtimeSessionCreateResponse`, and that model decides the session's fields.

Exit status: 0 all good, 1 some event failed, 3 the `openai` package (or pydantic) is missing.
"""

import json
import sys

try:
    import pydantic
    from openai.types.realtime import (
        RealtimeClientEvent,
        RealtimeServerEvent,
        RealtimeSessionCreateResponse,
    )
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(f"oracle unavailable: {error}", file=sys.stderr)
    sys.exit(3)

SERVER = pydantic.TypeAdapter(RealtimeServerEvent)
CLIENT = pydantic.TypeAdapter(RealtimeClientEvent)
SESSION = pydantic.TypeAdapter(RealtimeSessionCreateResponse)
SESSION_EVENTS = {"session.created", "session.updated"}


def extras(value, path, skip=()):
    """Yields `path: keys` for every model with unknown keys, recursively."""
    if isinstance(value, pydantic.BaseModel):
        extra = value.model_extra or {}
        if extra:
            yield f"{path or '<event>'}: unknown {sorted(extra)} in {type(value).__name__}"
        for name in value.model_fields_set:
            if name in skip:
                continue
            yield from extras(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from extras(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from extras(item, f"{path}.{key}")


def check(direction, event):
    """Returns a list of problems with one event (empty when it matches the package)."""
    adapter = SERVER if direction == "server" else CLIENT
    try:
        parsed = adapter.validate_python(event)
    except pydantic.ValidationError as error:
        return [f"does not validate: {error}"]
    problems = []
    if getattr(parsed, "type", None) != event.get("type"):
        problems.append(f"parsed as {type(parsed).__name__} ({getattr(parsed, 'type', None)!r})")
    skip = ()
    if direction == "server" and event.get("type") in SESSION_EVENTS:
        skip = ("session",)
        try:
            session = SESSION.validate_python(event.get("session"))
        except pydantic.ValidationError as error:
            return [f"session does not validate as RealtimeSessionCreateResponse: {error}"]
        problems.extend(extras(session, "session"))
    problems.extend(extras(parsed, "", skip))
    return problems


def main():
    failures = 0
    counts = {}
    for number, line in enumerate(sys.stdin, start=1):
        line = line.strip()
        if not line:
            continue
        record = json.loads(line)
        direction, event = record["direction"], record["event"]
        kind = f"{direction} {event.get('type') if isinstance(event, dict) else '?'}"
        counts[kind] = counts.get(kind, 0) + 1
        problems = check(direction, event) if isinstance(event, dict) else ["not an object"]
        for problem in problems:
            failures += 1
            shown = json.dumps(event, ensure_ascii=False)
            if len(shown) > 400:
                shown = shown[:400] + "..."
            print(f"line {number} ({kind}): {problem}\n    {shown}", file=sys.stderr)
    for kind in sorted(counts):
        print(f"{counts[kind]:5}  {kind}")
    if failures:
        print(f"{failures} problem(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
