-- The expires= filter of /api/v3/core/tokens/ compares with a timestamp from the query string.
-- A value PostgreSQL cannot read matches nothing, as an unknown value does, rather than failing
-- the whole list.
CREATE FUNCTION cu_try_timestamptz(s text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN s::timestamptz;
EXCEPTION WHEN others THEN
	RETURN NULL;
END
$$;
