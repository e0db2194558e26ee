/* A library test-symbols dlopen()s after a symbolizer has read the maps. */
void *dlo_here(void);

__attribute__((noinline)) void *dlo_here(void)
{
	/* As a return address: one byte into dlo_here (the symbolizer looks
	 * up the byte before it). */
	return (char *)dlo_here + 1;
}
