"""The shared core: what every part of tresor may use, and nothing that uses them.

Site configuration (:mod:`tresor.core.site`), where things live (:mod:`~tresor.core.paths`),
secret files (:mod:`~tresor.core.secrets`), the data catalogue's file format
(:mod:`~tresor.core.catalogue`), errors and the version. Only the standard library, pydantic
and tomli-w: the airlock image installs this and not the researcher library.
"""
