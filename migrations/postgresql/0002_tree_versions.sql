-- PostgreSQL's dialect of migrations/0002_tree_versions.sql: a version per
-- block of provider trees, bumped in the same transaction as every change to
-- what the allocation candidates engine reads about a tree (its providers and
-- their parents, inventories, allocations, traits and aggregates). Block b
-- holds the trees whose root id r has r >> 6 = b (TREE_BLOCK_SHIFT in
-- store/tree_cache.h must agree). Because the version lives in the database
-- and is bumped by the writer's own transaction, a reader on any node that
-- finds, in its snapshot, the version it cached a block at may reuse it.
CREATE TABLE tree_versions (
    block   bigint PRIMARY KEY,
    version bigint NOT NULL
);

INSERT INTO tree_versions(block, version) SELECT DISTINCT root_id >> 6, 1 FROM providers;

-- The one place that knows the block size (SQLite's INSTEAD OF trigger on
-- the view tree_touches). A new root is inserted with root_id 0 and then
-- pointed at itself, so root id 0 (and NULL) names no block.
CREATE FUNCTION tree_touch(root bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF root IS NOT NULL AND root <> 0 THEN
        INSERT INTO tree_versions AS t(block, version) VALUES (root >> 6, 1)
            ON CONFLICT (block) DO UPDATE SET version = t.version + 1;
    END IF;
END
$$;

-- Touches the tree of a provider by id; nothing when it is gone (when the
-- provider itself is being deleted, its own trigger has bumped the block).
CREATE FUNCTION tree_touch_provider(provider bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tree_touch(root_id) FROM providers WHERE id = provider;
END
$$;

CREATE FUNCTION tree_versions_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tree_touch(OLD.root_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM tree_touch(NEW.root_id);
    END IF;
    RETURN NULL;
END
$$;

-- For the tables whose rows name a provider in provider_id.
CREATE FUNCTION tree_versions_provider_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tree_touch_provider(OLD.provider_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.provider_id <> OLD.provider_id) THEN
        PERFORM tree_touch_provider(NEW.provider_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tree_versions_provider_insert AFTER INSERT ON providers
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider();
CREATE TRIGGER tree_versions_provider_update AFTER UPDATE OF parent_id, root_id, uuid ON providers
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider();
CREATE TRIGGER tree_versions_provider_delete AFTER DELETE ON providers
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider();

CREATE TRIGGER tree_versions_inventory_insert AFTER INSERT ON inventories
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_inventory_update AFTER UPDATE ON inventories
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_inventory_delete AFTER DELETE ON inventories
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();

CREATE TRIGGER tree_versions_allocation_insert AFTER INSERT ON allocations
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_allocation_update AFTER UPDATE OF provider_id, used ON allocations
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_allocation_delete AFTER DELETE ON allocations
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();

CREATE TRIGGER tree_versions_trait_insert AFTER INSERT ON provider_traits
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_trait_delete AFTER DELETE ON provider_traits
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();

CREATE TRIGGER tree_versions_aggregate_insert AFTER INSERT ON provider_aggregates
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
CREATE TRIGGER tree_versions_aggregate_delete AFTER DELETE ON provider_aggregates
    FOR EACH ROW EXECUTE FUNCTION tree_versions_provider_row();
