-- Runs once, when the postgres container initialises an empty data volume
-- (mounted into /docker-entrypoint-initdb.d/ by deploy/docker-compose.yml).
-- One database per service; all owned by POSTGRES_USER (local development only).
CREATE DATABASE intake;
CREATE DATABASE routing;
CREATE DATABASE sla;
CREATE DATABASE callback;
CREATE DATABASE analytics;
CREATE DATABASE accounts;
