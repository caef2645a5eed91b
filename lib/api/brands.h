/* /api/v3/core/brands/: brands, and the one matching the request's host. */
#ifndef CU_API_BRANDS_H
#define CU_API_BRANDS_H

struct cu_ctx;

void cu_api_brands_list(struct cu_ctx *cx);    /* GET  brands/ */
void cu_api_brands_create(struct cu_ctx *cx);  /* POST brands/ */
void cu_api_brands_get(struct cu_ctx *cx);     /* GET  brands/{brand_uuid}/ */
void cu_api_brands_update(struct cu_ctx *cx);  /* PUT, PATCH brands/{brand_uuid}/ */
void cu_api_brands_delete(struct cu_ctx *cx);  /* DELETE brands/{brand_uuid}/ */
void cu_api_brands_current(struct cu_ctx *cx); /* GET  brands/current/ (public) */
#endif
