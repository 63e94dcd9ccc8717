"""Flask's JSON responses through orjson: the same text as Flask's own provider writes with
this app's settings (keys sorted, UTF-8 unescaped, compact, a newline at the end; dates,
decimals, UUIDs and dataclasses through Flask's own ``default``), in a fraction of the time
the standard library's encoder took per response. ``dumps``/``loads`` stay Flask's."""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_APPEND_NEWLINE)


class OrjsonProvider(DefaultJSONProvider):
    ensure_ascii = False

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        if self._app.debug:  # indented for people, as Flask's own does
            return super().response(obj)
        try:
            body = orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:  # what orjson will not take (an int beyond 64 bits, a key not a string)
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)
