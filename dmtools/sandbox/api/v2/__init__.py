"""The API v2 dialect (``/v2/...`` and the token endpoint ``/oauth2/v2/token``).

Modules: ``urls`` (the URL tables), ``dialect`` (:class:`V2Api`: routes, error rendering),
``oauth`` (the token endpoint), ``calls`` (one call: authentication and access rules),
``profiles`` and ``videos`` (the resources), ``lists`` (query parameters, filters, the list
envelope and its links), ``fields`` (the ``fields`` parameter with dot notation), ``views``
(the v2 video object: the field mapping onto the shared store), ``writes`` (strict write
bodies) and ``errors`` (the error bodies and codes).
"""

from __future__ import annotations

from dmtools.sandbox.api.v2.dialect import V2Api

__all__ = ["V2Api"]
