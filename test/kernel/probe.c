/*
 * forksafe kernel probe (issue 15, first scenarios): carries out one of the simulator's event orders on one real page
 * of this machine's kernel, with a real long-lived FOLL_GET reference, and prints what the parent, the child and the
 * "device" see at the end, as one JSON object on stdout.
 *
 * The device is a pipe holding the page through vmsplice() (a read-only FOLL_GET reference, kept until the pipe is
 * read): what the pipe gives back is what a device reading that page would send.
 *
 *   probe vmsplice <child-writes-first|parent-writes-first|child-exits-then-parent-writes>
 *   probe io_uring <same orders>
 *
 * io_uring: the page is registered as a fixed buffer (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE, held until the ring is
 * closed); what IORING_OP_WRITE_FIXED sends from it into a file is what the device reads.
 *
 * Exit 0 with {"skip": "..."} when the machine cannot run the scenario; 1 on a probe failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>

#define PAGE 4096

static void fail(const char *what)
{
	printf("{\"error\": \"%s: %s\"}\n", what, strerror(errno));
	exit(1);
}

/* One byte over a pipe: the two processes take turns in the order the scenario names. */
static void say(int fd) { char c = 1; if (write(fd, &c, 1) != 1) fail("turn write"); }
static void await_turn(int fd) { char c; if (read(fd, &c, 1) != 1) fail("turn read"); }

/* A minimal io_uring of a few entries, by raw system calls (no liburing): enough to register a buffer and write from it. */
struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int ring_setup(struct ring *r)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -1;
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -1;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* WRITE_FIXED of the registered buffer 0 into `fd` at offset 0: the device reading the pinned page. */
static int ring_write_fixed(struct ring *r, int fd, void *buf, unsigned len)
{
	unsigned tail = *r->sq_tail;
	unsigned idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_WRITE_FIXED;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->off = 0;
	sqe->buf_index = 0;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -1;
	unsigned head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -1;
	int res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "vmsplice") != 0 && strcmp(argv[1], "io_uring") != 0)) {
		fprintf(stderr, "usage: probe vmsplice|io_uring <order>\n");
		return 2;
	}
	int uring = !strcmp(argv[1], "io_uring");
	const char *order = argv[2];
	int child_first = !strcmp(order, "child-writes-first");
	int parent_first = !strcmp(order, "parent-writes-first");
	int child_exits = !strcmp(order, "child-exits-then-parent-writes");
	if (!child_first && !parent_first && !child_exits) {
		fprintf(stderr, "unknown order %s\n", order);
		return 2;
	}

	char *buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		fail("mmap");
	memset(buf, 'A', PAGE);

	int dev[2], to_child[2], to_parent[2], report[2];
	if (pipe(dev) || pipe(to_child) || pipe(to_parent) || pipe(report))
		fail("pipe");
	struct iovec iov = { .iov_base = buf, .iov_len = PAGE };
	struct ring ring = { .fd = -1 };
	int out = -1;
	if (uring) {
		/* The reference: a fixed buffer, pinned FOLL_PIN | FOLL_LONGTERM until the ring goes away. */
		if (ring_setup(&ring) < 0) {
			printf("{\"skip\": \"io_uring is not available: %s\"}\n", strerror(errno));
			return 0;
		}
		if (syscall(__NR_io_uring_register, ring.fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
			printf("{\"skip\": \"io_uring cannot register a fixed buffer: %s\"}\n", strerror(errno));
			return 0;
		}
		char name[] = "/tmp/forksafe-probe-XXXXXX";
		out = mkstemp(name);
		if (out < 0)
			fail("mkstemp");
		unlink(name);
	} else if (vmsplice(dev[1], &iov, 1, 0) != PAGE) {
		/* The reference: the pipe now holds the page itself (no copy), as a device's FOLL_GET pin would. */
		printf("{\"skip\": \"vmsplice did not take the whole page: %s\"}\n", strerror(errno));
		return 0;
	}

	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		/* The child: writes when its turn comes (unless it exits first), reports what it sees. */
		if (child_exits)
			_exit(0);
		await_turn(to_child[0]);
		buf[0] = 'C';
		char seen = buf[0];
		if (write(report[1], &seen, 1) != 1)
			_exit(1);
		say(to_parent[1]);
		await_turn(to_child[0]);
		_exit(0);
	}

	char child_sees = '-';
	if (child_first) {
		say(to_child[1]);
		await_turn(to_parent[0]);
		if (read(report[0], &child_sees, 1) != 1)
			fail("report");
		buf[0] = 'P';
	} else if (parent_first) {
		buf[0] = 'P';
		say(to_child[1]);
		await_turn(to_parent[0]);
		if (read(report[0], &child_sees, 1) != 1)
			fail("report");
	} else {
		if (waitpid(pid, NULL, 0) != pid)
			fail("waitpid");
		buf[0] = 'P';
	}
	char parent_sees = buf[0];

	/* The device sends what it holds. */
	char got[PAGE];
	if (uring) {
		if (ring_write_fixed(&ring, out, buf, PAGE) != PAGE)
			fail("WRITE_FIXED");
		if (pread(out, got, PAGE, 0) != PAGE)
			fail("device read");
	} else if (read(dev[0], got, PAGE) != PAGE) {
		fail("device read");
	}
	if (!child_exits) {
		say(to_child[1]);
		waitpid(pid, NULL, 0);
	}
	printf("{\"order\": \"%s\", \"parent\": \"%c\", \"child\": \"%c\", \"device\": \"%c\"}\n", order, parent_sees, child_sees, got[0]);
	return 0;
}
