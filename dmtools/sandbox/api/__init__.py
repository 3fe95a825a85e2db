"""The sandbox's HTTP side: routing and wire formats (the ``responses``/``urls`` of moto).

* ``app``: the WSGI application (routing over every dialect, host check, body limits,
  error answers) and the request log;
* ``urls``: the shared routes and the list of dialects; ``base``: ``Route``, ``Router``,
  ``Context`` and the ``Dialect`` protocol;
* ``wire`` (bodies, the strict JSON parser, JSON answers) and ``errors`` (``ApiError``);
* ``admin`` (the admin API) and ``uploads`` (the upload server), shared by every dialect;
* ``oauth``: what every token endpoint shares (RFC 6749 errors, form, client credentials);
* one subpackage per API dialect: ``legacy`` (the Platform API) and ``v2`` (API v2).

Adding a dialect (the Reporting API at ``/graphql``) is one new subpackage with its ``urls.py`` table and a class following ``base.Dialect``, listed in
``urls.DIALECTS``; it serves the same :class:`~dmtools.sandbox.state.Store` and tokens.
"""
