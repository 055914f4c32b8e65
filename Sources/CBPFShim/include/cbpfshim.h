#ifndef CBPFSHIM_H
#define CBPFSHIM_H

/* libbpf reports through a printf-style va_list callback, which Swift cannot
 * implement. These keep the last lines in a buffer so that errors can carry
 * what libbpf said; `verbose` also echoes debug output to stderr. */
void cw_libbpf_capture_log(int verbose);
void cw_libbpf_clear_log(void);
const char *cw_libbpf_log(void);

/* A BPF_PROG_TYPE_TRACING (fentry) program that does nothing, loaded against
 * the BTF id of a kernel function: tells whether this kernel accepts fentry
 * at all. Returns 0 or -errno from the load. */
int cw_probe_fentry(int btf_id);

/* Sets a `const volatile` u32 of an opened, not yet loaded object's .rodata,
 * found through the object's BTF, as a bpftool skeleton would. 0 or -errno. */
struct bpf_object;
int cw_set_rodata_u32(struct bpf_object *obj, const char *name, unsigned int value);

/* The part of `vmlinux` CO-RE relocations of the `locals` objects' types can
 * land on, as a new BTF (see coresubset.c); NULL with *error = -errno. */
struct btf;
struct btf *cw_btf_core_subset(const struct btf *vmlinux, const struct btf **locals, int local_count, int *error);

/* The running kernel's GNU build ID, from its ELF notes (/sys/kernel/notes)
 * read through libelf, as lowercase hex into `out`. Bytes of the ID, or -errno. */
int cw_kernel_build_id(const char *notes_path, char *out, int out_size);

#endif
