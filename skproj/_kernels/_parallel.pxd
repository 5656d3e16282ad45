# cython: language_level=3
"""Thread count for the OpenMP kernels (Cython prange), usable with or without OpenMP.

``max_threads()`` is ``omp_get_max_threads()`` when the module is compiled with OpenMP (it follows
OMP_NUM_THREADS and threadpoolctl's limits), 1 otherwise. ``n_threads(work)`` is 1 below
``PARALLEL_MIN_WORK`` entries (thread start-up would cost more than it saves) and
``max_threads()`` above.
"""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int skproj_max_threads(void) { return omp_get_max_threads(); }
    #define SKPROJ_HAVE_OPENMP 1
    #else
    static int skproj_max_threads(void) { return 1; }
    #define SKPROJ_HAVE_OPENMP 0
    #endif
    """
    int max_threads "skproj_max_threads" () noexcept nogil
    int HAVE_OPENMP "SKPROJ_HAVE_OPENMP"


# entries of work below which a kernel stays on one thread
cdef enum:
    PARALLEL_MIN_WORK = 200000


cdef inline int n_threads(Py_ssize_t work) noexcept nogil:
    if work < PARALLEL_MIN_WORK:
        return 1
    return max_threads()
