/* custos's version: the authentik release whose public interfaces it speaks. */
#ifndef CU_VERSION_H
#define CU_VERSION_H

#define CU_VERSION "2026.5.0"

/* The commit built, set by the build; "" when unknown. */
#ifndef CU_BUILD_HASH
#define CU_BUILD_HASH ""
#endif

#endif
