-- The avatar users get under authentik's default "gravatar,initials" setting when no Gravatar
-- answers: an SVG with the initials of the display name (else the username, else "a k") on a
-- colour derived from the name, as a base64 data URI. Whether Gravatar has a picture can only
-- be known by asking it over the network, which a list of users must not do row by row.
CREATE FUNCTION user_avatar(display_name text, username text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	src text := btrim(display_name);
	parts text[];
	initials text;
	h bigint;
	r int;
	g int;
	b int;
	fg text;
	svg text;
BEGIN
	IF src = '' THEN
		src := btrim(username);
	END IF;
	IF src = '' THEN
		src := 'a k';
	END IF;
	parts := regexp_split_to_array(src, '\s+');
	IF array_length(parts, 1) = 1 THEN
		initials := left(parts[1], 2);
	ELSE
		initials := left(left(parts[1], 1) || parts[array_length(parts, 1)], 2);
	END IF;
	initials := upper(initials);
	initials := replace(replace(replace(replace(replace(initials, '&', '&amp;'), '<', '&lt;'),
		'>', '&gt;'), '"', '&quot;'), '''', '&apos;');
	-- The low 24 bits of the name's MD5, each channel kept within [55, 200].
	h := ('x' || right(md5(lower(src)), 6))::bit(24)::bigint;
	r := least(greatest((h >> 16) & 255, 55), 200);
	g := least(greatest((h >> 8) & 255, 55), 200);
	b := least(greatest(h & 255, 55), 200);
	fg := CASE WHEN r * 0.299 + g * 0.587 + b * 0.114 > 186 THEN '000' ELSE 'fff' END;
	svg := '<svg xmlns="http://www.w3.org/2000/svg" width="64px" height="64px" viewBox="0 0 64 64" version="1.1">'
		|| '<rect fill="#' || lpad(to_hex(r), 2, '0') || lpad(to_hex(g), 2, '0') || lpad(to_hex(b), 2, '0')
		|| '" cx="32" cy="32" width="64" height="64" r="32"/>'
		|| '<text x="50%" y="50%" style="color: #' || fg || '; line-height: 1; font-family: '
		|| '''RedHatText'',''Overpass'',overpass,helvetica,arial,sans-serif; " fill="#' || fg
		|| '" alignment-baseline="middle" dominant-baseline="middle" text-anchor="middle" '
		|| 'font-size="28" font-weight="400" dy=".1em">' || initials || '</text></svg>';
	RETURN 'data:image/svg+xml;base64,' || translate(encode(convert_to(svg, 'UTF8'), 'base64'), E'\n', '');
END
$$;
