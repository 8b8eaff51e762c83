using System;
using System.Runtime.InteropServices;

namespace CircleLoss.Interop.Distributed.OpenMpi;

// The part of the MPI C API the collectives use, from Open MPI's libmpi.so.40 (Open MPI 3.0 to 5.x). MPI's
// handles are opaque types whose representation the standard leaves to the implementation: in Open MPI they
// are the addresses of exported globals (MPI_COMM_WORLD is &ompi_mpi_comm_world), in MPICH and its
// derivatives (Intel MPI, MVAPICH) 32-bit integers. Only Open MPI's are read here (OpenMpiHandles).
internal static unsafe partial class OpenMpiNative
{
    internal const string Library = "libmpi.so.40";

    // Open MPI's values (mpi.h).
    internal const int MpiSuccess = 0;
    internal const int ThreadSerialized = 2;      // MPI_THREAD_SERIALIZED
    internal const int MaxLibraryVersionString = 256;
    internal const int MaxErrorString = 256;
    internal static readonly void* InPlace = (void*)1;  // MPI_IN_PLACE

    [LibraryImport(Library)]
    internal static partial int MPI_Initialized(int* flag);

    [LibraryImport(Library)]
    internal static partial int MPI_Finalized(int* flag);

    [LibraryImport(Library)]
    internal static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);

    [LibraryImport(Library)]
    internal static partial int MPI_Finalize();

    [LibraryImport(Library)]
    internal static partial int MPI_Get_library_version(byte* version, int* length);

    [LibraryImport(Library)]
    internal static partial int MPI_Comm_rank(nint comm, int* rank);

    [LibraryImport(Library)]
    internal static partial int MPI_Comm_size(nint comm, int* size);

    [LibraryImport(Library)]
    internal static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);

    [LibraryImport(Library)]
    internal static partial int MPI_Allgatherv(void* sendbuf, int sendcount, nint sendtype, void* recvbuf, int* recvcounts,
        int* displs, nint recvtype, nint comm);

    [LibraryImport(Library)]
    internal static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm);

    [LibraryImport(Library)]
    internal static partial int MPI_Reduce_scatter(void* sendbuf, void* recvbuf, int* recvcounts, nint datatype, nint op, nint comm);

    [LibraryImport(Library)]
    internal static partial int MPI_Abort(nint comm, int errorcode);

    [LibraryImport(Library)]
    internal static partial int MPI_Error_string(int errorcode, byte* text, int* length);

    // glibc's dlopen: libmpi must be loaded RTLD_GLOBAL, because Open MPI's components (mca_*.so, opened by
    // libmpi itself) resolve libmpi's symbols from the global scope; .NET loads libraries RTLD_LOCAL.
    internal const int RtldNow = 2;
    internal const int RtldGlobal = 0x100;

    [LibraryImport("libc.so.6", EntryPoint = "dlopen")]
    internal static partial nint DlOpen(byte* file, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "dlerror")]
    internal static partial byte* DlError();
}

/// <summary>Open MPI's predefined handles: the addresses of its exported globals.</summary>
internal readonly struct OpenMpiHandles
{
    public nint CommWorld { get; init; }
    public nint ErrorsReturn { get; init; }
    public nint OpSum { get; init; }
    public nint Float { get; init; }
    public nint Double { get; init; }
    public nint Int32 { get; init; }
    public nint Int64 { get; init; }
    public nint Byte { get; init; }

    /// <summary>Reads the handles from a loaded libmpi; fails when a symbol is missing (not Open MPI).</summary>
    public static OpenMpiHandles Read(nint library, string path)
    {
        nint Export(string name)
        {
            if (!NativeLibrary.TryGetExport(library, name, out nint address))
            {
                throw new PlatformNotSupportedException(
                    $"{path} does not export {name}: it is not Open MPI. CircleLoss.Interop.Distributed supports Open MPI 3.0 to 5.x " +
                    "(libmpi.so.40), whose handles are addresses of exported globals; MPICH, Intel MPI and MVAPICH use integer handles " +
                    "and are not supported. Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or implement " +
                    "ICollectives over your transport.");
            }

            return address;
        }

        return new OpenMpiHandles
        {
            CommWorld = Export("ompi_mpi_comm_world"),
            ErrorsReturn = Export("ompi_mpi_errors_return"),
            OpSum = Export("ompi_mpi_op_sum"),
            Float = Export("ompi_mpi_float"),
            Double = Export("ompi_mpi_double"),
            Int32 = Export("ompi_mpi_int"),
            Int64 = Export("ompi_mpi_long_long_int"),
            Byte = Export("ompi_mpi_byte"),
        };
    }

    public nint DatatypeOf<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Float;
        if (typeof(T) == typeof(double)) return Double;
        if (typeof(T) == typeof(int)) return Int32;
        if (typeof(T) == typeof(long)) return Int64;
        if (typeof(T) == typeof(byte)) return Byte;
        throw new NotSupportedException($"The collectives carry float, double, int, long and byte, not {typeof(T).Name}.");
    }
}
