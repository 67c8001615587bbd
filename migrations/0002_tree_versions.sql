-- A version per block of provider trees, bumped in the same transaction as
-- every change to what the allocation candidates engine reads about a tree:
-- its providers and their parents, inventories, allocations (usage), traits
-- and aggregates. Block b holds the trees whose root id r has r >> 6 = b
-- (64 root ids; TREE_BLOCK_SHIFT in store/tree_cache.h must agree). A reader
-- that finds the version it cached a block at, in its own snapshot, can use
-- the cached trees instead of reading them again; because the version lives
-- in the database, this also holds when another process writes.
CREATE TABLE tree_versions (
    block   INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

INSERT INTO tree_versions(block, version) SELECT DISTINCT root_id >> 6, 1 FROM providers WHERE true;

-- Inserting a root id here bumps the version of its block: the one place
-- that knows the block size. A new root is inserted with root_id 0 and then
-- pointed at itself, so root id 0 names no block.
CREATE VIEW tree_touches(root_id) AS SELECT NULL WHERE false;
CREATE TRIGGER tree_touches_bump INSTEAD OF INSERT ON tree_touches
WHEN NEW.root_id IS NOT NULL AND NEW.root_id <> 0 BEGIN
    INSERT INTO tree_versions(block, version) VALUES (NEW.root_id >> 6, 1)
        ON CONFLICT(block) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tree_versions_provider_insert AFTER INSERT ON providers BEGIN
    INSERT INTO tree_touches VALUES (NEW.root_id);
END;
CREATE TRIGGER tree_versions_provider_update AFTER UPDATE OF parent_id, root_id, uuid ON providers
BEGIN
    INSERT INTO tree_touches VALUES (OLD.root_id), (NEW.root_id);
END;
CREATE TRIGGER tree_versions_provider_delete AFTER DELETE ON providers BEGIN
    INSERT INTO tree_touches VALUES (OLD.root_id);
END;

-- The rows below name a provider; its root gives the block. (When the
-- provider itself is being deleted its own trigger has bumped the block and
-- the lookup finds nothing.)
CREATE TRIGGER tree_versions_inventory_insert AFTER INSERT ON inventories BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = NEW.provider_id;
END;
CREATE TRIGGER tree_versions_inventory_update AFTER UPDATE ON inventories BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id IN (OLD.provider_id, NEW.provider_id);
END;
CREATE TRIGGER tree_versions_inventory_delete AFTER DELETE ON inventories BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = OLD.provider_id;
END;

CREATE TRIGGER tree_versions_allocation_insert AFTER INSERT ON allocations BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = NEW.provider_id;
END;
CREATE TRIGGER tree_versions_allocation_update AFTER UPDATE OF provider_id, used ON allocations BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id IN (OLD.provider_id, NEW.provider_id);
END;
CREATE TRIGGER tree_versions_allocation_delete AFTER DELETE ON allocations BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = OLD.provider_id;
END;

CREATE TRIGGER tree_versions_trait_insert AFTER INSERT ON provider_traits BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = NEW.provider_id;
END;
CREATE TRIGGER tree_versions_trait_delete AFTER DELETE ON provider_traits BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = OLD.provider_id;
END;

CREATE TRIGGER tree_versions_aggregate_insert AFTER INSERT ON provider_aggregates BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = NEW.provider_id;
END;
CREATE TRIGGER tree_versions_aggregate_delete AFTER DELETE ON provider_aggregates BEGIN
    INSERT INTO tree_touches SELECT root_id FROM providers WHERE id = OLD.provider_id;
END;
