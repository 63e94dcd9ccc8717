"""flask-smorest's Blueprint, with each argument schema made once instead of once per request.

webargs instantiates a schema *class* on every request it parses, and a marshmallow schema
deep-copies its declared fields when it is made: a tenth of a registration's CPU went
there. Given an instance, it uses that one (loading keeps no state on the schema, so
threads may share it). The OpenAPI document is the same either way.
"""
from flask_smorest import Blueprint as _SmorestBlueprint


class Blueprint(_SmorestBlueprint):
    def arguments(self, schema, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)
