"""An example FastAPI service that uses wellness-repo the way a clinic's team would.

Settings come from the environment (:mod:`.settings`); one ``DatabaseManager`` is
opened per process in the application's lifespan (:mod:`.app`); every request
runs under the access context of the account whose bearer token it carries
(:mod:`.auth`); the package's errors become HTTP status codes in one place
(:mod:`.errors`).
"""

from .app import app_from_environment, create_app
from .settings import ServiceSettings

__all__ = ["ServiceSettings", "app_from_environment", "create_app"]
