#!/usr/bin/env bash
# Creates one database and one login role per service, and one for the key store; each role owns its own
# database and nothing else, and no other role may connect to it.
#
# Run once by the postgres image on a fresh data volume (mounted into
# /docker-entrypoint-initdb.d/). The passwords come from the container's
# environment (docker-compose.yml passes them in); the defaults are for a local
# trial only. Passwords are passed to psql as variables, so any character is safe
# here; a password used in a DATABASE_URL must still be percent-encoded there.
# The image's entrypoint runs this file if it is executable and sources it if
# not (a checkout that lost the mode bit); sourced, it keeps the entrypoint's own
# shell options (-Eeo pipefail), which already stop at the first error.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

create_service_db() {
    local name="$1" password="$2"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
         -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT ALL PRIVILEGES ON DATABASE :"name" TO :"name";
SQL
    # The role owns the public schema of its database, where it keeps its tables.
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "$name" \
         -v name="$name" <<'SQL'
ALTER SCHEMA public OWNER TO :"name";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
    echo "init.sh: database and role '$name' created"
}

create_service_db registration  "${REGISTRATION_DB_PASSWORD:-registration-dev}"
create_service_db evaluation    "${EVALUATION_DB_PASSWORD:-evaluation-dev}"
create_service_db awards        "${AWARDS_DB_PASSWORD:-awards-dev}"
create_service_db notifications "${NOTIFICATIONS_DB_PASSWORD:-notifications-dev}"
# the key store of the people's data keys, which every service reaches (docs/data-protection.md)
create_service_db keystore      "${KEYSTORE_DB_PASSWORD:-keystore-dev}"
