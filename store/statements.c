/* The names of the statement ids, shared by every backend. */
#include "store/statements.h"

/* clang-format off */
const char *const store_stmt_names[STMT__COUNT] = {
#define X(id) [STMT_##id] = #id,
    STORE_STATEMENTS(X)
#undef X
};
/* clang-format on */
