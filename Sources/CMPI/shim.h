// MPI's handles and constants are macros (addresses of library globals in Open MPI, integer
// constants in MPICH) that Swift cannot import; these inline functions return them.
#include <mpi.h>

static inline MPI_Comm fm_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype fm_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype fm_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype fm_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op fm_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op fm_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op fm_mpi_min(void) { return MPI_MIN; }
static inline void *fm_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int fm_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int fm_mpi_success(void) { return MPI_SUCCESS; }
static inline int fm_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#include <stdlib.h>

// Sums `n` float buffers over all ranks in place, one non-blocking reduction each, then waits
// for all (MPI_Request is a pointer in Open MPI and an int in MPICH, so the array lives here).
static inline int fm_mpi_allreduce_sum_buckets(float *const *buffers, const int *counts, int n) {
  MPI_Request *requests = (MPI_Request *)malloc(sizeof(MPI_Request) * (size_t)(n > 0 ? n : 1));
  if (requests == NULL) return MPI_ERR_NO_MEM;
  int code = MPI_SUCCESS;
  int started = 0;
  for (; started < n && code == MPI_SUCCESS; started++) {
    code = MPI_Iallreduce(MPI_IN_PLACE, buffers[started], counts[started], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests[started]);
  }
  if (code != MPI_SUCCESS) started--;
  int waited = MPI_Waitall(started, requests, MPI_STATUSES_IGNORE);
  free(requests);
  return code != MPI_SUCCESS ? code : waited;
}
