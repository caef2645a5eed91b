/* Statements of lib/tasks.c, worker/ and lib/api/tasks.c. */
#define CU_DB_STMTS_TASKS(X)                                                                       \
	X(TASKS_ENQUEUE, 4,                                                                        \
	  "WITH ins AS (INSERT INTO tasks (actor_name, args, idempotency_key, eta) VALUES ($1, "   \
	  "coalesce($2::jsonb, '{}'), $3, now() + make_interval(secs => $4::int)) ON CONFLICT "    \
	  "(idempotency_key) DO NOTHING RETURNING message_id) SELECT message_id FROM ins UNION "   \
	  "ALL SELECT message_id FROM tasks WHERE idempotency_key = $3")
