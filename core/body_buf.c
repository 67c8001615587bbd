#include "core/body_buf.h"

#include <string.h>

#include "core/util.h"

size_t body_buf_collect(char *data, size_t size, size_t n, void *cls)
{
    struct body_buf *b = cls;
    size_t add = size * n;
    if (add > b->max - b->len) {
        b->too_large = true;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        b->cap = (b->len + add + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, data, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}
