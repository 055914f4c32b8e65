/*
 * The part of the kernel's BTF that CO-RE relocations of our objects can
 * land on, as a BTF of its own: every struct, union and enum of vmlinux
 * whose name (without a ___flavor suffix) a local object names, with the
 * types embedded in them by value (members, arrays, typedefs and
 * qualifiers), and every pointer turned into `void *` (libbpf matches two
 * pointer fields whatever they point to, and every dereference we make is a
 * relocation of its own, rooted at a named struct). Handed to libbpf as
 * `btf_custom_path`, it spares each cold load the candidate search over all
 * ~126,000 vmlinux types (about 1 ms per relocated type) and the 5 MB parse.
 * Built with libbpf's own btf__add_*() writers; only types are copied, never
 * interpreted beyond their kind.
 */
#include "cbpfshim.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <linux/btf.h>

/* The essential name: "kernfs_node___old" → "kernfs_node" (length). */
static size_t essential_length(const char *name)
{
	const char *flavor = strstr(name, "___");
	return flavor ? (size_t)(flavor - name) : strlen(name);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The essential names of the structs, unions, enums and forward
 * declarations the local objects name, sorted for bsearch. */
static char **local_names(const struct btf **locals, int local_count, size_t *found)
{
	size_t capacity = 256, count = 0;
	char **names = malloc(capacity * sizeof(*names));

	for (int i = 0; names && i < local_count; i++) {
		__u32 types = btf__type_cnt(locals[i]);

		for (__u32 id = 1; id < types; id++) {
			const struct btf_type *t = btf__type_by_id(locals[i], id);
			int kind = btf_kind(t);
			const char *name;

			if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION && kind != BTF_KIND_ENUM &&
			    kind != BTF_KIND_ENUM64 && kind != BTF_KIND_FWD)
				continue;
			name = btf__name_by_offset(locals[i], t->name_off);
			if (!name || !*name)
				continue;
			if (count == capacity) {
				char **grown = realloc(names, (capacity *= 2) * sizeof(*names));
				if (!grown)
					break;
				names = grown;
			}
			names[count] = strndup(name, essential_length(name));
			if (names[count])
				count++;
		}
	}
	if (names)
		qsort(names, count, sizeof(*names), compare_names);
	*found = count;
	return names;
}

static int wanted(const char *name, char **names, size_t count)
{
	return name && *name && bsearch(&name, names, count, sizeof(*names), compare_names) != NULL;
}

/* Marks `id` and what it embeds by value. `keep` is indexed by type id. */
static void mark(const struct btf *btf, __u32 id, unsigned char *keep)
{
	while (id != 0 && !keep[id]) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		keep[id] = 1;
		switch (btf_kind(t)) {
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION: {
			const struct btf_member *m = btf_members(t);
			for (int i = 0; i < btf_vlen(t); i++)
				mark(btf, m[i].type, keep);
			return;
		}
		case BTF_KIND_ARRAY:
			mark(btf, btf_array(t)->index_type, keep);
			id = btf_array(t)->type;
			continue;
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default: /* INT, FLOAT, ENUM, ENUM64, FWD; PTR: its pointee is not followed */
			return;
		}
	}
}

static int copy(struct btf *out, const struct btf *btf, __u32 id, const __u32 *new_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const char *name = btf__name_by_offset(btf, t->name_off);
	int rc;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return btf__add_int(out, name, t->size, btf_int_encoding(t));
	case BTF_KIND_FLOAT:
		return btf__add_float(out, name, t->size);
	case BTF_KIND_PTR:
		return btf__add_ptr(out, 0);
	case BTF_KIND_ARRAY:
		return btf__add_array(out, new_id[btf_array(t)->index_type], new_id[btf_array(t)->type], btf_array(t)->nelems);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		rc = btf_kind(t) == BTF_KIND_STRUCT ? btf__add_struct(out, name, t->size) : btf__add_union(out, name, t->size);
		for (int i = 0; rc >= 0 && i < btf_vlen(t); i++) {
			int field = btf__add_field(out, btf__name_by_offset(btf, m[i].name_off), new_id[m[i].type],
						   btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i));
			if (field < 0)
				return field;
		}
		return rc;
	}
	case BTF_KIND_ENUM: {
		const struct btf_enum *v = btf_enum(t);
		rc = btf__add_enum(out, name, t->size);
		for (int i = 0; rc >= 0 && i < btf_vlen(t); i++) {
			int value = btf__add_enum_value(out, btf__name_by_offset(btf, v[i].name_off), v[i].val);
			if (value < 0)
				return value;
		}
		return rc;
	}
	case BTF_KIND_ENUM64: {
		const struct btf_enum64 *v = btf_enum64(t);
		rc = btf__add_enum64(out, name, t->size, btf_kflag(t));
		for (int i = 0; rc >= 0 && i < btf_vlen(t); i++) {
			int value = btf__add_enum64_value(out, btf__name_by_offset(btf, v[i].name_off), btf_enum64_value(&v[i]));
			if (value < 0)
				return value;
		}
		return rc;
	}
	case BTF_KIND_FWD:
		return btf__add_fwd(out, name, btf_kflag(t) ? BTF_FWD_UNION : BTF_FWD_STRUCT);
	case BTF_KIND_TYPEDEF:
		return btf__add_typedef(out, name, new_id[t->type]);
	case BTF_KIND_VOLATILE:
		return btf__add_volatile(out, new_id[t->type]);
	case BTF_KIND_CONST:
		return btf__add_const(out, new_id[t->type]);
	case BTF_KIND_RESTRICT:
		return btf__add_restrict(out, new_id[t->type]);
	case BTF_KIND_TYPE_TAG:
		return btf__add_type_tag(out, name, new_id[t->type]);
	default:
		return -EINVAL;
	}
}

struct btf *cw_btf_core_subset(const struct btf *vmlinux, const struct btf **locals, int local_count, int *error)
{
	__u32 count = btf__type_cnt(vmlinux);
	unsigned char *keep = calloc(count, 1);
	__u32 *new_id = calloc(count, sizeof(*new_id));
	struct btf *out = NULL;
	__u32 next = 1;
	size_t name_count = 0;
	char **names = local_names(locals, local_count, &name_count);

	*error = 0;
	if (!keep || !new_id || !names) {
		*error = -ENOMEM;
		goto done;
	}
	for (__u32 id = 1; id < count; id++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);
		int kind = btf_kind(t);

		if ((kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64) &&
		    wanted(btf__name_by_offset(vmlinux, t->name_off), names, name_count))
			mark(vmlinux, id, keep);
	}
	/* New ids follow the old order; references may point forward (libbpf allows it). */
	for (__u32 id = 1; id < count; id++)
		if (keep[id])
			new_id[id] = next++;
	out = btf__new_empty();
	if (!out) {
		*error = -errno;
		goto done;
	}
	for (__u32 id = 1; id < count; id++) {
		int rc;

		if (!keep[id])
			continue;
		rc = copy(out, vmlinux, id, new_id);
		if (rc < 0) {
			*error = rc;
			btf__free(out);
			out = NULL;
			goto done;
		}
	}
done:
	for (size_t i = 0; names && i < name_count; i++)
		free(names[i]);
	free(names);
	free(keep);
	free(new_id);
	return out;
}
