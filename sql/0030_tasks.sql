-- Background tasks: the outbox. A task row is written in the transaction of the change that
-- asks for it; Redis only wakes workers (stream custos:tasks), so losing Redis loses no task.
-- Field names follow authentik's task API (message_id, actor_name, state, retries, eta, ...).
CREATE TABLE tasks (
	message_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	queue_name text NOT NULL DEFAULT 'default',
	actor_name text NOT NULL,
	args jsonb NOT NULL DEFAULT '{}',
	-- authentik's states; "queued" waits for eta, "running" is held under a lease.
	state text NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'running', 'rejected', 'done')),
	-- info, warning or error: how it ended (authentik's aggregated_status).
	status text NOT NULL DEFAULT 'info' CHECK (status IN ('info', 'warning', 'error')),
	retries integer NOT NULL DEFAULT 0,
	max_retries integer NOT NULL DEFAULT 5,
	eta timestamptz NOT NULL DEFAULT now(),
	lease_owner text,
	lease_expires timestamptz,
	-- Set by callers whose work must happen once (a mail): a second enqueue is a no-op.
	idempotency_key text UNIQUE,
	-- What the effect recorded before its commit (an SMTP message id), so a retry after a
	-- crash can tell that the effect already happened.
	effect jsonb,
	logs jsonb NOT NULL DEFAULT '[]',
	result jsonb,
	rel_obj_app_label text,
	rel_obj_model text,
	rel_obj_id text,
	uid text,
	description text NOT NULL DEFAULT '',
	schedule_id uuid,
	created timestamptz NOT NULL DEFAULT now(),
	mtime timestamptz NOT NULL DEFAULT now()
);
-- What workers look for: due queued tasks, and running tasks whose lease ran out.
CREATE INDEX tasks_due ON tasks (eta) WHERE state = 'queued';
CREATE INDEX tasks_lease ON tasks (lease_expires) WHERE state = 'running';
CREATE INDEX tasks_mtime ON tasks (mtime, message_id);
CREATE INDEX tasks_actor ON tasks (actor_name, mtime);

CREATE TABLE task_schedules (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	-- A stable name for the schedule ("clean_expired_models"): what code and blueprints use.
	identifier text NOT NULL UNIQUE,
	uid text NOT NULL DEFAULT '',
	actor_name text NOT NULL,
	args jsonb NOT NULL DEFAULT '{}',
	crontab text NOT NULL,
	paused boolean NOT NULL DEFAULT false,
	next_run timestamptz NOT NULL DEFAULT now(),
	description text NOT NULL DEFAULT ''
);
ALTER TABLE tasks ADD FOREIGN KEY (schedule_id) REFERENCES task_schedules (id) ON DELETE SET NULL;

CREATE TABLE workers (
	worker_id text PRIMARY KEY,
	hostname text NOT NULL,
	pid integer NOT NULL,
	version text NOT NULL,
	started timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now()
);

INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_tasks', 'task', 'view_task', 'Can view Task'),
	('authentik_tasks', 'task', 'retry_task', 'Retry failed task'),
	('authentik_tasks_schedules', 'schedule', 'view_schedule', 'Can view Schedule'),
	('authentik_tasks_schedules', 'schedule', 'change_schedule', 'Can change Schedule'),
	('authentik_tasks_schedules', 'schedule', 'send_schedule', 'Manually trigger a schedule'),
	('authentik_tasks', 'workerstatus', 'view_workerstatus', 'Can view Worker Status');
