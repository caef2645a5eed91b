/*
 * The pickers every screen shares: a field's `ref` for users, groups, flows, key pairs and
 * applications (see form.js for what a ref holds). One definition each, so that every picker of
 * a kind labels, searches and looks up its objects the same way.
 */

const userLabel = (u) => (u.name ? `${u.username} (${u.name})` : u.username);

export const userRef = { endpoint: 'core/users/', value: 'pk', search: true, label: userLabel };

export const groupRef = { endpoint: 'core/groups/', value: 'pk', search: true, label: (g) => g.name };

/* Flows are addressed by slug; a field holds a flow's pk, found again through this list filter.
 * Flows and key pairs are few: their pickers are plain lists. */
export function flowRef(designation) {
	return {
		endpoint: 'flows/instances/', value: 'pk', search: false, filter: 'flow_uuid',
		query: designation ? { designation, ordering: 'slug' } : { ordering: 'slug' },
		label: (f) => `${f.name} (${f.slug})`,
	};
}

/* Certificate key pairs; withKey: only pairs with a private key (for signing). */
export function keypairRef(withKey) {
	return {
		endpoint: 'crypto/certificatekeypairs/', value: 'pk', search: false,
		query: withKey ? { has_key: true } : {},
		label: (k) => k.name,
	};
}

/* Applications are addressed by slug, a field holds the pk: read the list to find the row. */
export const applicationRef = {
	endpoint: 'core/applications/', value: 'pk', search: true, lookup: 'slug',
	query: { superuser_full_list: true },
	label: (a) => `${a.name} (${a.slug})`,
};
