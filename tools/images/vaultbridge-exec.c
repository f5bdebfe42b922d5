/* vaultbridge-exec ENV-FILE -- COMMAND [ARG...]
 *
 * The app container's entrypoint for env-var secrets (agent-inject-env-<secret>): reads the env file
 * vaultbridge-agent writes (packages/agent/src/env-file.ts), sets each variable, then execs COMMAND
 * with its ARGs (looked up in PATH when it has no slash, as a shell's exec does). No shell is needed
 * in the app image, and nothing in a value is interpreted: quotes, $(), backquotes, backslashes and
 * newlines reach the app byte for byte.
 *
 * The file is the agent's, in the form a POSIX shell also reads (so a pod wrapped by an older webhook
 * with /bin/sh keeps working): comment lines starting with '#', empty lines, and lines
 *     export NAME='value'
 * where NAME is [A-Za-z_][A-Za-z0-9_]* and the value is a run of single-quoted pieces and \' (a
 * literal quote), ending at the end of the line; a newline inside quotes is part of the value. Anything
 * else, a NUL byte, a name set twice or a file that does not end with a newline (cut short) is refused
 * with the file and line, and the command is not run: the app never starts with its variables missing.
 *
 * Exit status: 1 for an unreadable or malformed env file, 2 for a wrong command line, 126 when the
 * command cannot be executed and 127 when it is not found (a shell's codes).
 *
 * Static (tools/install.sh: gcc -static), so it runs in any Linux image, even one with no libc. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest env file read; execve's own limits on the environment are far below this. */
#define MAX_FILE_BYTES (16u * 1024u * 1024u)

static const char *program = "vaultbridge-exec";

static void fail(int status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "%s: ", program);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(status);
}

/* The whole file, NUL-terminated; *size excludes the terminator. */
static char *read_file(const char *file, size_t *size) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(1, "cannot open the env file %s: %s (the agent writes it before the app starts; is the agent's init "
            "container or native sidecar in the pod?)",
         file, strerror(errno));
  size_t capacity = 4096, length = 0;
  char *data = malloc(capacity);
  if (data == NULL) fail(1, "out of memory reading %s", file);
  for (;;) {
    if (length + 1 >= capacity) {
      if (capacity >= MAX_FILE_BYTES) fail(1, "%s is larger than %u bytes", file, MAX_FILE_BYTES);
      capacity *= 2;
      char *grown = realloc(data, capacity);
      if (grown == NULL) fail(1, "out of memory reading %s", file);
      data = grown;
    }
    ssize_t n = read(fd, data + length, capacity - 1 - length);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(1, "cannot read the env file %s: %s", file, strerror(errno));
    }
    if (n == 0) break;
    length += (size_t)n;
  }
  close(fd);
  data[length] = '\0';
  *size = length;
  return data;
}

static int name_start(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

struct variable {
  char *name;
  char *value;
};

/* Parses the file into variables (names and values point into copies); fails naming file:line. */
static size_t parse(const char *file, const char *data, size_t size, struct variable **out) {
  if (memchr(data, '\0', size) != NULL) {
    size_t line = 1;
    for (const char *p = data; *p != '\0'; p++) line += *p == '\n';
    fail(1, "%s:%zu: holds a NUL byte; an environment variable cannot carry one", file, line);
  }
  if (size > 0 && data[size - 1] != '\n')
    fail(1, "%s: does not end with a newline: the file is cut short; the agent writes it whole", file);
  size_t count = 0, capacity = 16;
  struct variable *vars = malloc(capacity * sizeof *vars);
  char *value = malloc(size + 1); /* scratch: no value is longer than the file */
  if (vars == NULL || value == NULL) fail(1, "out of memory parsing %s", file);
  size_t line = 1;
  const char *p = data, *end = data + size;
  while (p < end) {
    size_t start_line = line;
    if (*p == '\n') {
      p++;
      line++;
      continue;
    }
    if (*p == '#') {
      while (*p != '\n') p++;
      continue;
    }
    if (strncmp(p, "export ", 7) != 0)
      fail(1, "%s:%zu: expected a line export NAME='value' (or a # comment), found something else", file,
           start_line);
    p += 7;
    const char *name = p;
    if (!name_start(*p))
      fail(1, "%s:%zu: the variable name must start with a letter or _ ([A-Za-z_][A-Za-z0-9_]*)", file,
           start_line);
    while (name_char(*p)) p++;
    size_t name_length = (size_t)(p - name);
    if (*p != '=')
      fail(1, "%s:%zu: expected = right after the variable name %.*s", file, start_line, (int)name_length, name);
    p++;
    if (*p != '\'') fail(1, "%s:%zu: the value of %.*s must be single-quoted", file, start_line, (int)name_length, name);
    size_t length = 0;
    while (*p != '\n') {
      if (*p == '\'') {
        p++;
        while (p < end && *p != '\'') {
          if (*p == '\n') line++;
          value[length++] = *p++;
        }
        if (p >= end)
          fail(1, "%s:%zu: the value of %.*s has no closing quote", file, start_line, (int)name_length, name);
        p++;
      } else if (p[0] == '\\' && p[1] == '\'') {
        value[length++] = '\'';
        p += 2;
      } else {
        fail(1, "%s:%zu: unexpected character after the quoted value of %.*s (only '...' and \\' pieces)", file,
             line, (int)name_length, name);
      }
    }
    p++; /* the newline that ends the entry */
    line++;
    for (size_t i = 0; i < count; i++)
      if (strlen(vars[i].name) == name_length && strncmp(vars[i].name, name, name_length) == 0)
        fail(1, "%s:%zu: %.*s is set twice", file, start_line, (int)name_length, name);
    if (count == capacity) {
      capacity *= 2;
      struct variable *grown = realloc(vars, capacity * sizeof *vars);
      if (grown == NULL) fail(1, "out of memory parsing %s", file);
      vars = grown;
    }
    vars[count].name = strndup(name, name_length);
    vars[count].value = malloc(length + 1);
    if (vars[count].name == NULL || vars[count].value == NULL) fail(1, "out of memory parsing %s", file);
    memcpy(vars[count].value, value, length);
    vars[count].value[length] = '\0';
    count++;
  }
  free(value);
  *out = vars;
  return count;
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0)
    fail(2, "usage: vaultbridge-exec ENV-FILE -- COMMAND [ARG...] (the webhook writes this command line)");
  const char *file = argv[1];
  size_t size;
  char *data = read_file(file, &size);
  struct variable *vars;
  size_t count = parse(file, data, size, &vars);
  for (size_t i = 0; i < count; i++)
    if (setenv(vars[i].name, vars[i].value, 1) != 0)
      fail(1, "%s: cannot set %s: %s", file, vars[i].name, strerror(errno));
  execvp(argv[3], argv + 3);
  int error = errno;
  fail(error == ENOENT ? 127 : 126, "cannot run %s: %s%s", argv[3], strerror(error),
       error == E2BIG ? " (the variables from the env file and the arguments exceed the kernel's limit)" : "");
  return 126;
}
