/* Statements of lib/events.c and lib/api/events.c. */
#define CU_DB_STMTS_EVENTS(X)                                                                      \
	X(EVENTS_INSERT, 5,                                                                        \
	  "INSERT INTO events (action, app, context, client_ip, \"user\") "                        \
	  "VALUES ($1, $2, $3::jsonb, $4::inet, $5::jsonb) RETURNING event_uuid")
