using System;
using CircleLoss.Interop.Native;

namespace CircleLoss.Interop;

/// <summary>Whether a backend can run on this machine, and the library's detail about it.</summary>
/// <param name="Backend">The backend asked about.</param>
/// <param name="IsAvailable">Whether a session can be created on it.</param>
/// <param name="Detail">The CPU features and GEMM kernel, the CUDA devices, or why CUDA cannot be used.</param>
public readonly record struct BackendAvailability(Backend Backend, bool IsAvailable, string Detail);

/// <summary>
/// The native library: where it is loaded from, its version, and which backends it can use here. All
/// members are thread-safe.
/// </summary>
/// <remarks>
/// The library is looked up once, on first use: at <see cref="NativeLibraryPath"/> when set, else at the
/// path in the environment variable <c>CIRCLELOSS_NATIVE_PATH</c> when set (a file, or a folder that holds
/// it; an explicit path is the only one tried), else beside CircleLoss.Interop.dll, under
/// <c>runtimes/&lt;rid&gt;/native/</c> and under <c>&lt;rid&gt;/</c> there (where a PowerShell module keeps
/// it), and finally by the runtime's own probing (a NuGet runtime package's deps.json entry, then the
/// system's search path). A failure throws <see cref="CircleLossNativeLibraryException"/> listing every path
/// tried and why it failed.
/// </remarks>
public static unsafe class CircleLossLibrary
{
    /// <summary>The environment variable that overrides where the native library is loaded from (a file or a folder).</summary>
    public const string NativeLibraryPathVariable = NativeLibraryLoader.EnvironmentVariable;

    /// <summary>
    /// The native library's file, or a folder that holds it, to load instead of probing. Set it before the
    /// first use of the library; once the library is loaded, setting it throws
    /// <see cref="InvalidOperationException"/>. Takes precedence over <c>CIRCLELOSS_NATIVE_PATH</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The library is already loaded.</exception>
    public static string? NativeLibraryPath
    {
        get => NativeLibraryLoader.ConfiguredPath;
        set => NativeLibraryLoader.ConfiguredPath = value;
    }

    /// <summary>Whether the native library has been loaded.</summary>
    public static bool IsLoaded => NativeLibraryLoader.IsLoaded;

    /// <summary>The file the library was loaded from (as found by the probing), or null before it is loaded.
    /// <see cref="LibraryPath"/> asks the library itself.</summary>
    public static string? LoadedFrom => NativeLibraryLoader.LoadedFrom;

    /// <summary>The platform's file name of the native library (for example <c>libcircleloss.so</c>).</summary>
    public static string NativeLibraryFileName => NativeLibraryLoader.FileName;

    /// <summary>The version of circleloss.h the bindings were generated from.</summary>
    public static Version BindingsVersion { get; } = new(NativeConstants.CIRCLELOSS_VERSION_MAJOR,
        NativeConstants.CIRCLELOSS_VERSION_MINOR, NativeConstants.CIRCLELOSS_VERSION_PATCH);

    /// <summary>Loads the native library now (it is otherwise loaded on first use).</summary>
    /// <exception cref="CircleLossNativeLibraryException">It cannot be found or loaded, or its version does
    /// not match these bindings; the message lists every path tried and why it failed.</exception>
    public static void Initialize() => NativeLibraryLoader.EnsureLoaded();

    /// <summary>Loads the native library now, reporting a failure instead of throwing.</summary>
    /// <param name="error">Null on success; otherwise every path tried, why each failed, and the likely causes.</param>
    /// <returns>Whether the library is loaded.</returns>
    public static bool TryInitialize(out string? error) => NativeLibraryLoader.TryEnsureLoaded(out error);

    /// <summary>The loaded library's version, "major.minor.patch".</summary>
    public static string VersionString
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            return NativeErrors.Text(NativeMethods.circleloss_version_string());
        }
    }

    /// <summary>The loaded library's version.</summary>
    public static Version Version
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            int number = NativeMethods.circleloss_version();
            return new Version(number / 10000, number / 100 % 100, number % 100);
        }
    }

    /// <summary>The file system path of the loaded library, as the library reports it (a managed copy).</summary>
    public static string LibraryPath
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            byte* path = null;
            Check(NativeMethods.circleloss_library_path(&path), "circleloss_library_path");
            return NativeErrors.Text(path);
        }
    }

    /// <summary>Whether <paramref name="backend"/> can be used on this machine, with the library's detail (a managed
    /// copy of the library's text, valid for as long as the caller keeps it).</summary>
    /// <param name="backend">The backend to ask about.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backend"/> is not a <see cref="Backend"/> value.</exception>
    public static BackendAvailability QueryBackend(Backend backend)
    {
        if (!Enum.IsDefined(backend))
        {
            throw new ArgumentOutOfRangeException(nameof(backend), backend, "Not a Backend value.");
        }

        NativeLibraryLoader.EnsureLoaded();
        int available = 0;
        byte* detail = null;
        Check(NativeMethods.circleloss_query_backend(&available, &detail, (circleloss_backend)backend), "circleloss_query_backend");
        // The detail is valid until the next call on this thread: copy it now.
        return new BackendAvailability(backend, available != 0, NativeErrors.Text(detail));
    }

    private static void Check(circleloss_status status, string function)
    {
        if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            throw NativeErrors.Create(status, function, NativeErrors.LastError());
        }
    }
}
