/*
 * forksafe kernel probe: carries out one of the fork simulator's event lists on one real page of the running kernel,
 * with a real long-lived reference standing in for the device, and prints after every event what the parent, the
 * child and the device hold, as one JSON object on stdout. forksafe compares it with its simulation step by step
 * (`forksafe probe`, and the kernel suite of `npm test`).
 *
 *   forksafe-probe <small|thp|hugetlb> <vmsplice|io_uring> <event>...
 *
 * memory:    small = one anonymous 4 KiB page; thp = the first 4 KiB of an anonymous transparent huge page
 *            (MADV_HUGEPAGE); hugetlb = the first 4 KiB of a MAP_HUGETLB page (needs vm.nr_hugepages).
 * reference: vmsplice = the page spliced into a pipe (a read-only FOLL_GET reference the pipe keeps; what tee() and
 *            read() get from the pipe is what a device reading the page sends); io_uring = the page registered as a
 *            fixed buffer (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE until unregistered; IORING_OP_WRITE_FIXED is the
 *            device reading it, IORING_OP_READ_FIXED the device writing it).
 * events:    dontfork wipeonfork pin fork parent-write=N child-write=N parent-read child-read dma-read dma-write=N
 *            child-exit unpin  (N: the byte written, 2..255; the parent starts with the byte 1 in its buffer)
 *
 * Frames come from /proc/<pid>/pagemap and are only shown to root (CAP_SYS_ADMIN); without them "frames" is false
 * and only the values are reported. The device's frame is the one the parent mapped when the reference was taken:
 * neither reference follows later page-table changes.
 *
 * Exit 0 with {"skip": "..."} when the machine cannot run the scenario, 1 with {"error": "..."} on a probe failure,
 * 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/io_uring.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)
#define INITIAL_BYTE 1

static void fail(const char *what)
{
	printf("{\"error\": \"%s: %s\"}\n", what, strerror(errno));
	exit(1);
}

static void skip(const char *why)
{
	printf("{\"skip\": \"%s\"}\n", why);
	exit(0);
}

/* --- io_uring by raw system calls (no liburing): enough to register one buffer and move one page through it --- */

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

/* One fixed-buffer operation on registered buffer 0 at `buf`, against `fd` at `off`; the result of its completion. */
static int ring_fixed(struct ring *r, int opcode, int fd, void *buf, unsigned len, unsigned long off)
{
	unsigned tail = *r->sq_tail;
	unsigned idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = (unsigned char)opcode;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = 0;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	unsigned head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EIO;
	int res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/* --- frames --- */

static int frames_visible = 1;

/* The frame mapped at `addr` in the process whose pagemap is `fd`: 0 when nothing is mapped there. */
static uint64_t frame_at(int fd, unsigned long addr)
{
	uint64_t entry;
	if (fd < 0 || pread(fd, &entry, sizeof(entry), (off_t)(addr / PAGE * sizeof(entry))) != sizeof(entry))
		return 0;
	if (!(entry & (1ULL << 63)))
		return 0;
	uint64_t pfn = entry & ((1ULL << 55) - 1);
	if (pfn == 0)
		frames_visible = 0; /* present but hidden: not CAP_SYS_ADMIN */
	return pfn;
}

/* /proc/kpageflags bit 22 (KPF_THP): the frame belongs to a transparent huge page. */
static int frame_is_thp(uint64_t pfn)
{
	uint64_t flags;
	int fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, &flags, sizeof(flags), (off_t)(pfn * sizeof(flags)));
	close(fd);
	return n == sizeof(flags) ? (int)((flags >> 22) & 1) : -1;
}

/* --- memory of each kind --- */

struct region {
	char *base;        /* what madvise() applies to */
	unsigned long len;
	char *buf;         /* the 4 KiB the scenario is about */
};

static int map_region(const char *kind, struct region *r)
{
	if (!strcmp(kind, "small")) {
		r->len = PAGE;
		r->base = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (!strcmp(kind, "thp")) {
		char *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			return -1;
		r->len = HUGE;
		r->base = (char *)(((unsigned long)raw + HUGE - 1) & ~(HUGE - 1));
		if (madvise(r->base, HUGE, MADV_HUGEPAGE))
			return -1;
	} else {
		r->len = HUGE;
		r->base = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	}
	r->buf = r->base;
	return r->base == MAP_FAILED ? -1 : 0;
}

/* The frame a read of untouched memory of this kind maps (the zero page, or THP's huge zero page); 0 for hugetlb. */
static uint64_t zero_frame_of(const char *kind, int self)
{
	struct region z;
	if (!strcmp(kind, "hugetlb") || map_region(kind, &z))
		return 0;
	volatile char c = z.buf[0];
	(void)c;
	return frame_at(self, (unsigned long)z.buf);
}

/* --- the child, driven over pipes: 'w' N writes N, 'r' reads, 'x' exits; each answered with one byte --- */

static void child_loop(int cmd, int reply, char *buf)
{
	for (;;) {
		unsigned char op[2];
		if (read(cmd, op, 2) != 2)
			_exit(0);
		unsigned char answer = 'k';
		if (op[0] == 'x')
			_exit(0);
		if (op[0] == 'w')
			buf[0] = (char)op[1];
		else
			answer = (unsigned char)((volatile char *)buf)[0];
		if (write(reply, &answer, 1) != 1)
			_exit(1);
	}
}

/* --- the scenario --- */

static const char *signal_name(int sig)
{
	return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGKILL ? "SIGKILL" : "signal";
}

static void print_frame(const char *key, uint64_t pfn, int last)
{
	if (pfn && frames_visible)
		printf("\"%s\": \"0x%llx\"%s", key, (unsigned long long)pfn, last ? "" : ", ");
	else
		printf("\"%s\": null%s", key, last ? "" : ", ");
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "small") && strcmp(argv[1], "thp") && strcmp(argv[1], "hugetlb")) ||
	    (strcmp(argv[2], "vmsplice") && strcmp(argv[2], "io_uring"))) {
		fprintf(stderr, "usage: forksafe-probe small|thp|hugetlb vmsplice|io_uring <event>...\n");
		return 2;
	}
	const char *kind = argv[1];
	int uring = !strcmp(argv[2], "io_uring");
	signal(SIGPIPE, SIG_IGN);

	int self = open("/proc/self/pagemap", O_RDONLY);
	struct region mem;
	if (map_region(kind, &mem)) {
		if (!strcmp(kind, "hugetlb"))
			skip("no free hugetlb page (vm.nr_hugepages is 0 or all in use)");
		fail("mmap");
	}
	mem.buf[0] = INITIAL_BYTE;
	if (!strcmp(kind, "thp")) {
		uint64_t pfn = frame_at(self, (unsigned long)mem.buf);
		int thp = pfn ? frame_is_thp(pfn) : -1;
		if (thp < 0)
			skip("cannot tell whether the page is a THP (/proc/kpageflags needs root)");
		if (!thp)
			skip("the kernel did not back the buffer with a transparent huge page (transparent_hugepage/enabled, defrag)");
	}
	uint64_t zero = zero_frame_of(kind, self);

	int dev[2] = { -1, -1 }, aux[2] = { -1, -1 };
	struct ring ring = { .fd = -1 };
	int file = -1;
	if (pipe(dev) || pipe(aux))
		fail("pipe");
	if (uring) {
		if (ring_setup(&ring) < 0)
			skip("io_uring is not available here (io_uring_setup failed; kernel.io_uring_disabled?)");
		char name[] = "/tmp/forksafe-probe-XXXXXX";
		file = mkstemp(name);
		if (file < 0)
			fail("mkstemp");
		unlink(name);
	}

	pid_t child = 0;
	int cmd = -1, reply = -1, childmap = -1;
	const char *child_state = "none", *child_signal = NULL;
	uint64_t device = 0;
	int pinned = 0;

	printf("{\"memory\": \"%s\", \"reference\": \"%s\", ", kind, argv[2]);
	print_frame("zeroFrame", zero, 0);
	printf("\"steps\": [");
	for (int i = 3; i < argc; i++) {
		const char *ev = argv[i];
		const char *eq = strchr(ev, '=');
		int value = eq ? atoi(eq + 1) : 0;
		size_t n = eq ? (size_t)(eq - ev) : strlen(ev);
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)n, ev);
		int read_value = -1;
		const char *err = NULL;
		char errbuf[96];

		if (!strcmp(name, "dontfork") || !strcmp(name, "wipeonfork")) {
			if (madvise(mem.base, mem.len, !strcmp(name, "dontfork") ? MADV_DONTFORK : MADV_WIPEONFORK))
				err = strerror(errno);
		} else if (!strcmp(name, "pin")) {
			struct iovec iov = { .iov_base = mem.buf, .iov_len = PAGE };
			if (uring) {
				if (syscall(__NR_io_uring_register, ring.fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0)
					skip("io_uring cannot register a fixed buffer here");
			} else if (vmsplice(dev[1], &iov, 1, 0) != (ssize_t)PAGE) {
				skip("vmsplice did not take the whole page");
			}
			pinned = 1;
			device = frame_at(self, (unsigned long)mem.buf);
		} else if (!strcmp(name, "fork")) {
			int to_child[2], to_parent[2];
			if (pipe(to_child) || pipe(to_parent))
				fail("pipe");
			fflush(stdout);
			child = fork();
			if (child < 0)
				fail("fork");
			if (child == 0) {
				close(to_child[1]);
				close(to_parent[0]);
				child_loop(to_child[0], to_parent[1], mem.buf);
			}
			close(to_child[0]);
			close(to_parent[1]);
			cmd = to_child[1];
			reply = to_parent[0];
			child_state = "running";
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)child);
			childmap = open(path, O_RDONLY);
		} else if (!strcmp(name, "parent-write")) {
			mem.buf[0] = (char)value;
		} else if (!strcmp(name, "parent-read")) {
			read_value = (unsigned char)((volatile char *)mem.buf)[0];
		} else if (!strcmp(name, "child-write") || !strcmp(name, "child-read") || !strcmp(name, "child-exit")) {
			if (!strcmp(child_state, "running")) {
				unsigned char op[2] = { name[6] == 'w' ? 'w' : name[6] == 'r' ? 'r' : 'x', (unsigned char)value };
				unsigned char answer;
				if (write(cmd, op, 2) != 2)
					fail("child command");
				if (op[0] == 'x' || read(reply, &answer, 1) != 1) {
					int status;
					if (waitpid(child, &status, 0) != child)
						fail("waitpid");
					close(childmap);
					childmap = -1;
					if (WIFSIGNALED(status)) {
						child_state = "killed";
						child_signal = signal_name(WTERMSIG(status));
					} else {
						child_state = "exited";
					}
				} else if (op[0] == 'r') {
					read_value = answer;
				}
			}
		} else if (!strcmp(name, "dma-read")) {
			unsigned char got[PAGE];
			if (!pinned) {
				err = "no reference held";
			} else if (uring) {
				int res = ring_fixed(&ring, IORING_OP_WRITE_FIXED, file, mem.buf, PAGE, PAGE);
				if (res != (int)PAGE || pread(file, got, PAGE, PAGE) != (ssize_t)PAGE)
					fail("WRITE_FIXED");
				read_value = got[0];
			} else {
				/* tee() copies the pipe's reference to the page into a second pipe, so the first keeps holding it. */
				if (tee(dev[0], aux[1], PAGE, 0) != (ssize_t)PAGE || read(aux[0], got, PAGE) != (ssize_t)PAGE)
					fail("tee");
				read_value = got[0];
			}
		} else if (!strcmp(name, "dma-write")) {
			if (!pinned) {
				err = "no reference held";
			} else if (!uring) {
				err = "a vmsplice reference is read-only";
			} else {
				unsigned char data[PAGE];
				memset(data, 0, sizeof(data));
				data[0] = (unsigned char)value;
				if (pwrite(file, data, PAGE, 0) != (ssize_t)PAGE)
					fail("pwrite");
				if (ring_fixed(&ring, IORING_OP_READ_FIXED, file, mem.buf, PAGE, 0) != (int)PAGE)
					fail("READ_FIXED");
			}
		} else if (!strcmp(name, "unpin")) {
			if (pinned && uring && syscall(__NR_io_uring_register, ring.fd, IORING_UNREGISTER_BUFFERS, NULL, 0) < 0)
				fail("unregister");
			if (pinned && !uring) {
				unsigned char drop[PAGE];
				if (read(dev[0], drop, PAGE) != (ssize_t)PAGE)
					fail("pipe drain");
			}
			pinned = 0;
			device = 0;
		} else {
			snprintf(errbuf, sizeof(errbuf), "unknown event %s", name);
			fprintf(stderr, "forksafe-probe: %s\n", errbuf);
			return 2;
		}

		uint64_t parent_frame = frame_at(self, (unsigned long)mem.buf);
		uint64_t child_frame = childmap >= 0 ? frame_at(childmap, (unsigned long)mem.buf) : 0;
		printf("%s{\"event\": \"%s\", ", i > 3 ? ", " : "", ev);
		if (err)
			printf("\"failed\": \"%s\", ", err);
		if (read_value >= 0)
			printf("\"value\": %d, ", read_value);
		print_frame("parent", parent_frame, 0);
		printf("\"child\": \"%s\", ", child_state);
		if (child_signal)
			printf("\"childSignal\": \"%s\", ", child_signal);
		print_frame("childFrame", child_frame, 0);
		print_frame("device", pinned ? device : 0, 1);
		printf("}");
	}
	if (!strcmp(child_state, "running")) {
		unsigned char op[2] = { 'x', 0 };
		if (write(cmd, op, 2) == 2)
			waitpid(child, NULL, 0);
	}
	printf("], \"frames\": %s}\n", frames_visible ? "true" : "false");
	return 0;
}
