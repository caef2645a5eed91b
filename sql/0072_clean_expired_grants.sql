-- Expired OAuth2 grants and SAML sessions and request IDs go with the other expired objects in
-- clean_expired_models (worker/daemon.c), as authentik's clean_expired_models covers every
-- expiring model; the schedule of their own that 0061 added goes.
DELETE FROM task_schedules WHERE identifier = 'oauth2_clean_expired';
