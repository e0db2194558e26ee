/* A program that embeds CPython: initializes the interpreter, runs leak.py
 * (argv[1]) as __main__ with the rest of argv as sys.argv, and finalizes
 * it. The shim must name the .py lines as for python3 itself and leave the
 * program's behaviour alone, finalization included. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>

int main(int argc, char **argv)
{
	PyConfig config;
	PyStatus st;
	FILE *f;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: embed SCRIPT [ARGS...]\n");
		return 2;
	}
	PyConfig_InitPythonConfig(&config);
	config.parse_argv = 0;
	st = PyConfig_SetBytesArgv(&config, argc - 1, argv + 1);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st))
		Py_ExitStatusException(st);
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	rc = PyRun_SimpleFileExFlags(f, argv[1], 1, NULL);
	if (Py_FinalizeEx() < 0)
		rc = 120;
	return rc == 0 ? 0 : 1;
}
