"""The legacy Platform API dialect (``api.dailymotion.com`` and the partner host ``/rest``).

Modules: ``urls`` (the URL tables), ``dialect`` (:class:`LegacyApi`: routes, authentication,
error rendering), ``oauth`` and ``consent`` (token endpoints, consent page), ``rest``,
``videos`` and ``general`` (REST resources), ``multicall`` (``POST /`` envelopes),
``queries`` (list parameters), ``writes`` (write parameters), ``views`` (rendering with
``fields``), ``calls`` (one call and its parameters) and ``errors`` (the error bodies).
"""

from __future__ import annotations

from dmtools.sandbox.api.legacy.dialect import LegacyApi

__all__ = ["LegacyApi"]
