/*
 * forksafe kernel probe (issue 15, first scenarios): carries out one of the simulator's event orders on one real page
 * of this machine's kernel, with a real long-lived FOLL_GET reference, and prints what the parent, the child and the
 * "device" see at the end, as one JSON object on stdout.
 *
 * The device is a pipe holding the page through vmsplice() (a read-only FOLL_GET reference, kept until the pipe is
 * read): what the pipe gives back is what a device reading that page would send.
 *
 *   probe vmsplice <child-writes-first|parent-writes-first|child-exits-then-parent-writes>
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

#define PAGE 4096

static void fail(const char *what)
{
	printf("{\"error\": \"%s: %s\"}\n", what, strerror(errno));
	exit(1);
}

/* One byte over a pipe: the two processes take turns in the order the scenario names. */
static void say(int fd) { char c = 1; if (write(fd, &c, 1) != 1) fail("turn write"); }
static void await_turn(int fd) { char c; if (read(fd, &c, 1) != 1) fail("turn read"); }

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "vmsplice") != 0) {
		fprintf(stderr, "usage: probe vmsplice <order>\n");
		return 2;
	}
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
	/* The reference: the pipe now holds the page itself (no copy), as a device's FOLL_GET pin would. */
	if (vmsplice(dev[1], &iov, 1, 0) != PAGE) {
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
	if (read(dev[0], got, PAGE) != PAGE)
		fail("device read");
	if (!child_exits) {
		say(to_child[1]);
		waitpid(pid, NULL, 0);
	}
	printf("{\"order\": \"%s\", \"parent\": \"%c\", \"child\": \"%c\", \"device\": \"%c\"}\n", order, parent_sees, child_sees, got[0]);
	return 0;
}
