-- The initial schema. Times are unix seconds. Ids of standard resource
-- classes are their index in os-resource-classes' STANDARDS list; custom
-- classes start at 10000, as in Placement.
CREATE TABLE resource_classes (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
) STRICT;

CREATE TABLE traits (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
) STRICT;

CREATE TABLE providers (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE,
    generation INTEGER NOT NULL DEFAULT 0,
    parent_id  INTEGER REFERENCES providers(id) ON DELETE RESTRICT,
    root_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
) STRICT;
CREATE INDEX providers_parent ON providers(parent_id);
CREATE INDEX providers_root ON providers(root_id);

CREATE TABLE inventories (
    provider_id       INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    resource_class_id INTEGER NOT NULL REFERENCES resource_classes(id) ON DELETE RESTRICT,
    total             INTEGER NOT NULL,
    reserved          INTEGER NOT NULL DEFAULT 0,
    min_unit          INTEGER NOT NULL DEFAULT 1,
    max_unit          INTEGER NOT NULL DEFAULT 2147483647,
    step_size         INTEGER NOT NULL DEFAULT 1,
    allocation_ratio  REAL NOT NULL DEFAULT 1.0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER,
    PRIMARY KEY (provider_id, resource_class_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX inventories_class ON inventories(resource_class_id, provider_id);

CREATE TABLE provider_traits (
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    trait_id    INTEGER NOT NULL REFERENCES traits(id) ON DELETE RESTRICT,
    PRIMARY KEY (provider_id, trait_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX provider_traits_trait ON provider_traits(trait_id, provider_id);

CREATE TABLE aggregates (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE provider_aggregates (
    provider_id  INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    aggregate_id INTEGER NOT NULL REFERENCES aggregates(id) ON DELETE RESTRICT,
    PRIMARY KEY (provider_id, aggregate_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX provider_aggregates_aggregate ON provider_aggregates(aggregate_id, provider_id);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE consumer_types (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE consumers (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT NOT NULL UNIQUE,
    project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
    consumer_type_id INTEGER REFERENCES consumer_types(id) ON DELETE RESTRICT,
    generation       INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER
) STRICT;
CREATE INDEX consumers_project_user ON consumers(project_id, user_id);

CREATE TABLE allocations (
    id                INTEGER PRIMARY KEY,
    provider_id       INTEGER NOT NULL REFERENCES providers(id) ON DELETE RESTRICT,
    consumer_id       INTEGER NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
    resource_class_id INTEGER NOT NULL REFERENCES resource_classes(id) ON DELETE RESTRICT,
    used              INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER
) STRICT;
CREATE INDEX allocations_provider_class ON allocations(provider_id, resource_class_id, used);
CREATE INDEX allocations_consumer ON allocations(consumer_id);
CREATE INDEX allocations_class ON allocations(resource_class_id);
