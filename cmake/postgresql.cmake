# The PostgreSQL store backend (issue 13): store/pg_*.c and the migrations of
# migrations/postgresql/, built when PLACID_POSTGRESQL is ON (the default
# when pkg-config finds libpq). Included by CMakeLists.txt between the glob
# of store/*.c and placid_store: it adjusts STORE_SOURCES and sets
# PLACID_PG_LIBS.
pkg_check_modules(PQ IMPORTED_TARGET libpq)
option(PLACID_POSTGRESQL "Build the PostgreSQL store backend (needs libpq)" ${PQ_FOUND})

list(FILTER STORE_SOURCES EXCLUDE REGEX "/store/pg_[^/]*\\.c$")
set(PLACID_PG_LIBS "")
if(PLACID_POSTGRESQL)
  if(NOT PQ_FOUND)
    message(FATAL_ERROR "PLACID_POSTGRESQL is ON but pkg-config finds no libpq (Debian: libpq-dev)")
  endif()
  file(GLOB PG_MIGRATION_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/migrations/postgresql/*.sql)
  set(PG_MIGRATIONS_C ${CMAKE_BINARY_DIR}/pg_migrations_embedded.c)
  add_custom_command(
    OUTPUT ${PG_MIGRATIONS_C}
    COMMAND ${CMAKE_COMMAND} -DSRC_DIR=${CMAKE_SOURCE_DIR}/migrations/postgresql
            -DOUT=${PG_MIGRATIONS_C} -DNAME=pg_migrations
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_migrations.cmake
    DEPENDS ${PG_MIGRATION_FILES} ${CMAKE_SOURCE_DIR}/cmake/embed_migrations.cmake
    COMMENT "Embedding PostgreSQL migrations")
  file(GLOB PG_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/store/pg_*.c)
  list(APPEND STORE_SOURCES ${PG_SOURCES} ${PG_MIGRATIONS_C})
  set(PLACID_PG_LIBS PkgConfig::PQ)
endif()
