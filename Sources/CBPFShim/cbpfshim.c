/* The libbpf calls Swift cannot make itself (a va_list print callback),
 * plus two the loader needs before and around load. Only WitnessCapture
 * links these: the report side (last, dump, preflight) never loads libbpf's
 * code paths through this target. */
#include "cbpfshim.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

static char log_buf[8192];
static size_t log_len;
static int log_verbose;

static int cw_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	va_list copy;
	int n;

	if (log_verbose) {
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (level == LIBBPF_DEBUG)
		return n;
	/* keep the tail: drop the oldest half when full */
	if (log_len + n + 1 > sizeof(log_buf)) {
		size_t keep = log_len / 2;
		memmove(log_buf, log_buf + log_len - keep, keep);
		log_len = keep;
	}
	if (log_len + n + 1 <= sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n);
		log_len += n;
		log_buf[log_len] = 0;
	}
	return n;
}

void cw_libbpf_capture_log(int verbose)
{
	log_verbose = verbose;
	libbpf_set_print(cw_print);
}

void cw_libbpf_clear_log(void)
{
	log_len = 0;
	log_buf[0] = 0;
}

const char *cw_libbpf_log(void)
{
	return log_buf;
}

int cw_probe_fentry(int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_TRACE_FENTRY,
		.attach_btf_id = btf_id,
	);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &opts);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int cw_set_rodata_u32(struct bpf_object *obj, const char *name, unsigned int value)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	int sec;

	if (!btf)
		return -ENOENT;
	sec = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (sec < 0)
		return -ENOENT;
	bpf_object__for_each_map(map, obj) {
		const struct btf_type *t = btf__type_by_id(btf, sec);
		const struct btf_var_secinfo *vars = btf_var_secinfos(t);
		const char *map_name = bpf_map__name(map);
		size_t size = 0, len = strlen(map_name);
		char *data;

		if (!bpf_map__is_internal(map) || len < 7 || strcmp(map_name + len - 7, ".rodata") != 0)
			continue;
		data = bpf_map__initial_value(map, &size);
		for (int i = 0; data && i < btf_vlen(t); i++) {
			const struct btf_type *var = btf__type_by_id(btf, vars[i].type);

			if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
				continue;
			if (vars[i].size != sizeof(value) || vars[i].offset + sizeof(value) > size)
				return -EINVAL;
			memcpy(data + vars[i].offset, &value, sizeof(value));
			return 0;
		}
	}
	return -ENOENT;
}

#include <fcntl.h>
#include <gelf.h>

int cw_kernel_build_id(const char *notes_path, char *out, int out_size)
{
	unsigned char buf[4096];
	Elf_Data data = { 0 };
	GElf_Nhdr note;
	size_t offset = 0, name_off, desc_off;
	ssize_t n;
	int fd = open(notes_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	data.d_buf = buf;
	data.d_size = (size_t)n;
	data.d_type = ELF_T_NHDR;
	data.d_version = EV_CURRENT;
	while ((offset = gelf_getnote(&data, offset, &note, &name_off, &desc_off)) > 0) {
		if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 || memcmp(buf + name_off, "GNU", 4) != 0)
			continue;
		if ((int)note.n_descsz * 2 + 1 > out_size)
			return -ENAMETOOLONG;
		for (size_t i = 0; i < note.n_descsz; i++)
			snprintf(out + 2 * i, 3, "%02x", buf[desc_off + i]);
		return (int)note.n_descsz;
	}
	return -ENOENT;
}
