/* envprint NAME...: the cluster tier's app without a shell (its image holds this one static file and
 * nothing else: no /bin/sh, no libc). Every half second it prints, between "<<<" and ">>>" lines, its
 * PID, whether /bin/sh exists, and each named environment variable as NAME=value (or NAME unset), so a
 * test reads from the pod's log what the process itself was started with. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec half = {.tv_sec = 0, .tv_nsec = 500000000L};
  struct stat st;
  for (;;) {
    printf("<<<\npid=%d\nshell=%s\n", (int)getpid(), stat("/bin/sh", &st) == 0 ? "present" : "absent");
    for (int i = 1; i < argc; i++) {
      const char *value = getenv(argv[i]);
      if (value == NULL)
        printf("%s unset\n", argv[i]);
      else
        printf("%s=%s\n", argv[i], value);
    }
    printf(">>>\n");
    fflush(stdout);
    nanosleep(&half, NULL);
  }
}
