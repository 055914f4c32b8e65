/* libsystemd is loaded with dlopen when first needed, never linked: the
 * binary starts (and `arm` captures) on machines without it. Every function
 * the shims call is listed once here and reached through its rw_ pointer. */
#ifndef CSYSTEMD_LIBSYSTEMD_H
#define CSYSTEMD_LIBSYSTEMD_H

#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>

#define RW_LIBSYSTEMD_FUNCTIONS(X) \
	X(sd_bus_call) \
	X(sd_bus_call_method) \
	X(sd_bus_open_system) \
	X(sd_bus_message_read) \
	X(sd_bus_creds_get_pid) \
	X(sd_bus_creds_get_unique_name) \
	X(sd_bus_creds_unref) \
	X(sd_bus_error_free) \
	X(sd_bus_flush_close_unref) \
	X(sd_bus_get_fd) \
	X(sd_bus_get_name_creds) \
	X(sd_bus_get_property_trivial) \
	X(sd_bus_message_append) \
	X(sd_bus_message_append_basic) \
	X(sd_bus_message_close_container) \
	X(sd_bus_message_get_destination) \
	X(sd_bus_message_get_interface) \
	X(sd_bus_message_get_member) \
	X(sd_bus_message_get_realtime_usec) \
	X(sd_bus_message_get_sender) \
	X(sd_bus_message_get_type) \
	X(sd_bus_message_is_method_call) \
	X(sd_bus_message_new_method_call) \
	X(sd_bus_message_open_container) \
	X(sd_bus_message_peek_type) \
	X(sd_bus_message_read_basic) \
	X(sd_bus_message_unref) \
	X(sd_bus_new) \
	X(sd_bus_process) \
	X(sd_bus_set_address) \
	X(sd_bus_set_bus_client) \
	X(sd_bus_set_method_call_timeout) \
	X(sd_bus_set_monitor) \
	X(sd_bus_start) \
	X(sd_bus_unref) \
	X(sd_journal_open) \
	X(sd_journal_open_directory) \
	X(sd_journal_open_files) \
	X(sd_journal_close) \
	X(sd_journal_add_match) \
	X(sd_journal_add_disjunction) \
	X(sd_journal_flush_matches) \
	X(sd_journal_seek_head) \
	X(sd_journal_seek_tail) \
	X(sd_journal_seek_realtime_usec) \
	X(sd_journal_next) \
	X(sd_journal_previous) \
	X(sd_journal_get_data) \
	X(sd_journal_get_realtime_usec) \
	X(sd_journal_set_data_threshold) \
	X(sd_journal_query_unique) \
	X(sd_journal_enumerate_unique) \
	X(sd_journal_sendv)

#define RW_DECLARE_EXTERN(fn) extern __typeof__(&fn) rw_##fn;
RW_LIBSYSTEMD_FUNCTIONS(RW_DECLARE_EXTERN)

/* 0 once every function above is resolved; -ENOENT without libsystemd.so.0,
 * -ENOSYS when it lacks one of them. Tried once per process. */
int rw_load_libsystemd(void);

/* rw_load_libsystemd(), with the reason in `message` when it fails. */
int rw_require_libsystemd(char *message, int message_size);

#endif
