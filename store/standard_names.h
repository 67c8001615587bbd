/* The standard resource classes (index = id) and traits placid seeds. */
#ifndef PLACID_STORE_STANDARD_NAMES_H
#define PLACID_STORE_STANDARD_NAMES_H

#include <stddef.h>

extern const char *const standard_resource_classes[];
extern const size_t standard_resource_classes_count;
extern const char *const standard_traits[];
extern const size_t standard_traits_count;

#endif
