using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using CircleLoss.Interop.Distributed.OpenMpi;

namespace CircleLoss.Interop.Distributed;

/// <summary>
/// <see cref="ICollectives"/> over Open MPI's <c>MPI_COMM_WORLD</c>, by P/Invoke of <c>libmpi.so.40</c> (Open MPI 3.0
/// to 5.x; tested with Debian 12's 4.1.4). Start the program with <c>mpirun -np K program</c> (on several machines:
/// <c>mpirun --hostfile hosts -np K program</c>); started alone it is one rank. MPICH, Intel MPI and MVAPICH are not
/// supported (their handles are integers, not Open MPI's addresses): <see cref="Initialize"/> says so.
/// </summary>
/// <remarks>
/// One instance per process: <see cref="Initialize"/> initialises MPI (thread level <c>MPI_THREAD_SERIALIZED</c>:
/// calls from any thread, one at a time) and <see cref="Dispose"/> finalises it. Errors of MPI calls are returned,
/// not fatal (<c>MPI_ERRORS_RETURN</c>), and thrown as <see cref="CircleLossDistributedException"/>. An exception
/// that escapes the program on one rank aborts the whole job (<c>MPI_Abort</c>, from the unhandled-exception
/// handler), so that the other ranks do not wait for it forever.
/// </remarks>
public sealed unsafe class OpenMpiCollectives : ICollectives, IDisposable
{
    private static readonly Lock InitializationLock = new();
    private static OpenMpiCollectives? s_instance;

    private readonly OpenMpiHandles _handles;
    private readonly bool _finalizeOnDispose;
    private int _disposed;

    private OpenMpiCollectives(OpenMpiHandles handles, int rank, int size, string libraryVersion, bool finalizeOnDispose)
    {
        _handles = handles;
        Rank = rank;
        Size = size;
        LibraryVersion = libraryVersion;
        _finalizeOnDispose = finalizeOnDispose;
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size { get; }

    /// <summary>The MPI library's own description (<c>MPI_Get_library_version</c>), e.g. "Open MPI v4.1.4, ...".</summary>
    public string LibraryVersion { get; }

    /// <summary>Whether the process was started by Open MPI's <c>mpirun</c> (it sets <c>OMPI_COMM_WORLD_SIZE</c>).</summary>
    public static bool LaunchedByOpenMpi => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null;

    /// <summary>Whether the process was started by another MPI's launcher (MPICH's Hydra, Intel MPI, Slurm's PMI), which
    /// this package does not support.</summary>
    public static bool LaunchedByAnotherMpi =>
        !LaunchedByOpenMpi && (Environment.GetEnvironmentVariable("PMI_RANK") is not null ||
                                Environment.GetEnvironmentVariable("PMI_SIZE") is not null ||
                                Environment.GetEnvironmentVariable("MPI_LOCALRANKID") is not null);

    /// <summary>Loads Open MPI and initialises MPI once per process (later calls return the same instance until it is
    /// disposed); installs the handler that aborts the job when an exception escapes on this rank.</summary>
    /// <returns>The collectives over <c>MPI_COMM_WORLD</c>.</returns>
    /// <exception cref="PlatformNotSupportedException">Open MPI's libmpi.so.40 cannot be loaded, or the library
    /// loaded is not Open MPI, or the process was started by another MPI's launcher (the message says which and what
    /// to install).</exception>
    /// <exception cref="InvalidOperationException">MPI was finalised already in this process.</exception>
    public static OpenMpiCollectives Initialize()
    {
        lock (InitializationLock)
        {
            if (s_instance is { _disposed: 0 })
            {
                return s_instance;
            }

            if (LaunchedByAnotherMpi)
            {
                throw new PlatformNotSupportedException(
                    "This process was started by an MPI launcher other than Open MPI's mpirun (PMI_RANK, PMI_SIZE or MPI_LOCALRANKID " +
                    "is set: MPICH, Intel MPI, MVAPICH or Slurm's PMI). CircleLoss.Interop.Distributed supports Open MPI only " +
                    "(libmpi.so.40): start the program with Open MPI's mpirun.");
            }

            nint library = LoadGlobally(OpenMpiNative.Library);
            OpenMpiHandles handles = OpenMpiHandles.Read(library, OpenMpiNative.Library);
            int initialized = 0, finalized = 0;
            Check(OpenMpiNative.MPI_Finalized(&finalized), "MPI_Finalized");
            if (finalized != 0)
            {
                throw new InvalidOperationException("MPI has been finalised in this process already; it cannot be initialised again.");
            }

            Check(OpenMpiNative.MPI_Initialized(&initialized), "MPI_Initialized");
            bool initializedHere = initialized == 0;
            if (initializedHere)
            {
                int provided = 0;
                Check(OpenMpiNative.MPI_Init_thread(null, null, OpenMpiNative.ThreadSerialized, &provided), "MPI_Init_thread");
            }

            Check(OpenMpiNative.MPI_Comm_set_errhandler(handles.CommWorld, handles.ErrorsReturn), "MPI_Comm_set_errhandler");
            int rank = 0, size = 0;
            Check(OpenMpiNative.MPI_Comm_rank(handles.CommWorld, &rank), "MPI_Comm_rank");
            Check(OpenMpiNative.MPI_Comm_size(handles.CommWorld, &size), "MPI_Comm_size");
            var instance = new OpenMpiCollectives(handles, rank, size, ReadLibraryVersion(), initializedHere);
            AppDomain.CurrentDomain.UnhandledException += instance.AbortOnUnhandledException;
            s_instance = instance;
            return instance;
        }
    }

    /// <inheritdoc />
    public void AllGather<T>(ReadOnlySpan<T> local, Span<T> gathered, ReadOnlySpan<int> counts)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int total = CheckCounts(counts, nameof(counts));
        RequireLength(local.Length, counts[Rank], nameof(local), "counts[Rank]");
        RequireLength(gathered.Length, total, nameof(gathered), "the sum of counts");
        Span<int> displacements = Size <= 256 ? stackalloc int[Size] : new int[Size];
        Displacements(counts, displacements);
        nint type = _handles.DatatypeOf<T>();
        T dummy = default;
        fixed (T* send = local)
        fixed (T* receive = gathered)
        fixed (int* countPointer = counts)
        fixed (int* displacementPointer = displacements)
        {
            Check(OpenMpiNative.MPI_Allgatherv(send != null ? send : &dummy, local.Length, type, receive != null ? receive : &dummy,
                countPointer, displacementPointer, type, _handles.CommWorld), "MPI_Allgatherv");
        }
    }

    /// <inheritdoc />
    public void AllReduceSum<T>(Span<T> values)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RequireSummable<T>();
        T dummy = default;
        fixed (T* data = values)
        {
            Check(OpenMpiNative.MPI_Allreduce(OpenMpiNative.InPlace, data != null ? data : &dummy, values.Length, _handles.DatatypeOf<T>(),
                _handles.OpSum, _handles.CommWorld), "MPI_Allreduce");
        }
    }

    /// <inheritdoc />
    public void ReduceScatterSum<T>(ReadOnlySpan<T> contributions, Span<T> local, ReadOnlySpan<int> counts)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RequireSummable<T>();
        int total = CheckCounts(counts, nameof(counts));
        RequireLength(contributions.Length, total, nameof(contributions), "the sum of counts");
        RequireLength(local.Length, counts[Rank], nameof(local), "counts[Rank]");
        T dummy = default;
        fixed (T* send = contributions)
        fixed (T* receive = local)
        fixed (int* countPointer = counts)
        {
            Check(OpenMpiNative.MPI_Reduce_scatter(send != null ? send : &dummy, receive != null ? receive : &dummy, countPointer,
                _handles.DatatypeOf<T>(), _handles.OpSum, _handles.CommWorld), "MPI_Reduce_scatter");
        }
    }

    /// <inheritdoc />
    [DoesNotReturn]
    public void Abort(int errorCode, string message)
    {
        Console.Error.WriteLine($"[rank {Rank} of {Size}] aborting the MPI job: {message}");
        Console.Error.Flush();
        OpenMpiNative.MPI_Abort(_handles.CommWorld, errorCode);
        Environment.Exit(errorCode); // MPI_Abort does not return; this only satisfies the compiler
    }

    /// <summary>Finalises MPI (when <see cref="Initialize"/> initialised it). Every rank must dispose, after its
    /// last collective.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.UnhandledException -= AbortOnUnhandledException;
        if (_finalizeOnDispose)
        {
            int finalized = 0;
            OpenMpiNative.MPI_Finalized(&finalized);
            if (finalized == 0)
            {
                OpenMpiNative.MPI_Finalize();
            }
        }
    }

    private void AbortOnUnhandledException(object sender, UnhandledExceptionEventArgs e) =>
        Abort(1, $"unhandled exception: {e.ExceptionObject}");

    private static nint LoadGlobally(string name)
    {
        byte[] file = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* path = file)
        {
            nint handle = OpenMpiNative.DlOpen(path, OpenMpiNative.RtldNow | OpenMpiNative.RtldGlobal);
            if (handle == 0)
            {
                byte* error = OpenMpiNative.DlError();
                string why = error == null ? "unknown error" : Marshal.PtrToStringUTF8((nint)error) ?? "unknown error";
                throw new PlatformNotSupportedException(
                    $"Open MPI's {name} could not be loaded ({why}). CircleLoss.Interop.Distributed needs Open MPI 3.0 to 5.x " +
                    "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev); MPICH, Intel MPI and MVAPICH are not supported.");
            }
        }

        return NativeLibrary.Load(name); // the same handle, now global
    }

    private static string ReadLibraryVersion()
    {
        byte* text = stackalloc byte[OpenMpiNative.MaxLibraryVersionString * 4];
        int length = 0;
        return OpenMpiNative.MPI_Get_library_version(text, &length) == OpenMpiNative.MpiSuccess
            ? Encoding.UTF8.GetString(text, Math.Max(0, length)).Trim('\0', ' ', '\n')
            : "unknown";
    }

    private static void Check(int code, string function)
    {
        if (code == OpenMpiNative.MpiSuccess)
        {
            return;
        }

        byte* text = stackalloc byte[OpenMpiNative.MaxErrorString * 4];
        int length = 0;
        string message = OpenMpiNative.MPI_Error_string(code, text, &length) == OpenMpiNative.MpiSuccess
            ? Encoding.UTF8.GetString(text, Math.Max(0, length))
            : $"error code {code}";
        throw new CircleLossDistributedException($"{function} failed: {message} (MPI error {code}).");
    }

    private int CheckCounts(ReadOnlySpan<int> counts, string name)
    {
        if (counts.Length != Size)
        {
            throw new ArgumentException($"{name} must hold one count per rank ({Size}), but holds {counts.Length}.", name);
        }

        long total = 0;
        foreach (int count in counts)
        {
            if (count < 0)
            {
                throw new ArgumentException($"{name} must not be negative (got {count}).", name);
            }

            total += count;
        }

        if (total > int.MaxValue)
        {
            throw new ArgumentException(
                $"The counts add up to {total} elements; MPI's counts are int, so one collective carries at most {int.MaxValue}.", name);
        }

        return (int)total;
    }

    private static void Displacements(ReadOnlySpan<int> counts, Span<int> displacements)
    {
        int offset = 0;
        for (int r = 0; r < counts.Length; r++)
        {
            displacements[r] = offset;
            offset += counts[r];
        }
    }

    private static void RequireLength(int actual, int expected, string name, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} must hold {what} = {expected} elements, but holds {actual}.", name);
        }
    }

    private static void RequireSummable<T>()
    {
        if (typeof(T) == typeof(byte))
        {
            throw new NotSupportedException("Sums are over float, double, int and long, not bytes.");
        }
    }
}
