/* One IPMI request to the BMC through the kernel's OpenIPMI device
 * (/dev/ipmi0, ipmi_devintf): IPMICTL_SEND_COMMAND to the system interface,
 * then poll(2) and IPMICTL_RECEIVE_MSG_TRUNC until our answer arrives or the
 * deadline passes. ioctl(2) is variadic and the structs hold pointers:
 * written once here, not in Swift. */
#define _GNU_SOURCE
#include "cwitness.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <linux/ipmi.h>

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cw_ipmi_request(int fd, unsigned char netfn, unsigned char cmd, const unsigned char *data, unsigned short length,
		    long msgid, unsigned char *reply, unsigned short capacity, int timeout_ms)
{
	struct ipmi_system_interface_addr bmc = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
		.channel = IPMI_BMC_CHANNEL,
		.lun = 0,
	};
	unsigned char request[IPMI_MAX_MSG_LENGTH];
	struct ipmi_req req = {
		.addr = (unsigned char *)&bmc,
		.addr_len = sizeof(bmc),
		.msgid = msgid,
		.msg = { .netfn = netfn, .cmd = cmd, .data_len = length, .data = request },
	};
	long long deadline = now_ms() + timeout_ms;

	if (length > sizeof(request))
		return -EINVAL;
	if (length)
		memcpy(request, data, length);
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0)
		return -errno;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd ready = { .fd = fd, .events = POLLIN };
		struct ipmi_addr from;
		struct ipmi_recv recv = {
			.addr = (unsigned char *)&from,
			.addr_len = sizeof(from),
			.msg = { .data = reply, .data_len = capacity },
		};
		int polled;

		if (left <= 0)
			return -ETIMEDOUT;
		polled = poll(&ready, 1, (int)left);
		if (polled < 0 && errno == EINTR)
			continue;
		if (polled < 0)
			return -errno;
		if (polled == 0)
			return -ETIMEDOUT;
		/* EMSGSIZE: the answer was longer than `capacity` and is cut to it. */
		if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &recv) < 0 && errno != EMSGSIZE) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		/* An event or an answer to an earlier, timed-out request: not ours. */
		if (recv.recv_type != IPMI_RESPONSE_RECV_TYPE || recv.msgid != msgid)
			continue;
		return recv.msg.data_len;
	}
}
