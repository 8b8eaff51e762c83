using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Linq;
using System.Text;
using System.Threading;

namespace CircleLoss.Interop.Native;

/// <summary>
/// Finds and loads the native library once, registers the assembly's DllImport resolver, and checks that
/// the loaded library matches the header the bindings were generated from. Every entry point of the façade
/// calls <see cref="EnsureLoaded"/> before its first P/Invoke.
/// </summary>
internal static unsafe class NativeLibraryLoader
{
    private static readonly object Gate = new();
    private static IntPtr s_handle;
    private static string? s_loadedFrom;
    private static string? s_configuredPath;
    private static bool s_resolverRegistered;

    internal const string EnvironmentVariable = "CIRCLELOSS_NATIVE_PATH";

    internal static bool IsLoaded => Volatile.Read(ref s_handle) != IntPtr.Zero;

    internal static string? LoadedFrom
    {
        get
        {
            lock (Gate)
            {
                return s_loadedFrom;
            }
        }
    }

    internal static string? ConfiguredPath
    {
        get
        {
            lock (Gate)
            {
                return s_configuredPath;
            }
        }

        set
        {
            lock (Gate)
            {
                if (s_handle != IntPtr.Zero)
                {
                    throw new InvalidOperationException(
                        $"The CircleLoss native library is already loaded from '{s_loadedFrom}'; set {nameof(CircleLossLibrary)}.{nameof(CircleLossLibrary.NativeLibraryPath)} before the first use.");
                }

                s_configuredPath = string.IsNullOrWhiteSpace(value) ? null : value;
            }
        }
    }

    /// <summary>The platform's file name of the library (libcircleloss.so, libcircleloss.dylib, circleloss.dll).</summary>
    internal static string FileName =>
        OperatingSystem.IsWindows() ? NativeMethods.LibraryName + ".dll"
        : OperatingSystem.IsMacOS() ? "lib" + NativeMethods.LibraryName + ".dylib"
        : "lib" + NativeMethods.LibraryName + ".so";

    internal static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_handle) != IntPtr.Zero)
        {
            return;
        }

        lock (Gate)
        {
            if (s_handle != IntPtr.Zero)
            {
                return;
            }

            Load();
        }
    }

    internal static bool TryEnsureLoaded(out string? error)
    {
        try
        {
            EnsureLoaded();
            error = null;
            return true;
        }
        catch (CircleLossNativeLibraryException e)
        {
            error = e.Message;
            return false;
        }
    }

    private static void Load()
    {
        var attempts = new List<string>();
        Assembly assembly = typeof(NativeLibraryLoader).Assembly;
        string? environmentPath = Environment.GetEnvironmentVariable(EnvironmentVariable);
        string? overridePath = s_configuredPath;
        string? overrideSource = overridePath is not null
            ? $"{nameof(CircleLossLibrary)}.{nameof(CircleLossLibrary.NativeLibraryPath)}"
            : null;
        if (overridePath is null && !string.IsNullOrWhiteSpace(environmentPath))
        {
            overridePath = environmentPath;
            overrideSource = $"the environment variable {EnvironmentVariable}";
        }

        IntPtr handle = IntPtr.Zero;
        string? loadedFrom = null;
        if (overridePath is not null)
        {
            // An explicit path is the only one tried: loading some other copy instead would hide the mistake.
            string fullPath = Path.GetFullPath(overridePath);
            if (Directory.Exists(fullPath))
            {
                TryLoadFile(Path.Combine(fullPath, FileName), $" (from {overrideSource})", attempts, ref handle, ref loadedFrom);
            }
            else if (File.Exists(fullPath))
            {
                TryLoadFile(fullPath, $" (from {overrideSource})", attempts, ref handle, ref loadedFrom);
            }
            else
            {
                attempts.Add($"{fullPath} (from {overrideSource}): no such file or folder");
            }
        }
        else
        {
            foreach (string candidate in DefaultCandidates(BaseDirectories(assembly)))
            {
                if (TryLoadFile(candidate, "", attempts, ref handle, ref loadedFrom))
                {
                    if (NativeLibrary.TryGetExport(handle, "circleloss_version", out _))
                    {
                        break;
                    }

                    // Another file of the same name: on Windows the circleloss tool's own managed assembly is
                    // circleloss.dll, beside it, while the native library is under runtimes/win-x64/native/.
                    NativeLibrary.Free(handle);
                    handle = IntPtr.Zero;
                    loadedFrom = null;
                    attempts.Add($"{candidate}: not the CircleLoss native library (no circleloss_version export)");
                }
            }

            if (handle == IntPtr.Zero)
            {
                // The runtime's own probing: the native assets listed in the application's deps.json (a NuGet
                // runtime package), then the system's search (LD_LIBRARY_PATH, ldconfig's cache, PATH on Windows).
                try
                {
                    handle = NativeLibrary.Load(NativeMethods.LibraryName, assembly, null);
                    loadedFrom = "(default probing for '" + NativeMethods.LibraryName + "')";
                }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
                {
                    attempts.Add($"default probing for '{NativeMethods.LibraryName}' (the application's deps.json native assets, then the system search path): {OneLine(e.Message)}");
                }
            }
        }

        if (handle == IntPtr.Zero)
        {
            throw new CircleLossNativeLibraryException(FailureMessage(attempts, overrideSource), attempts.ToArray());
        }

        CheckVersion(handle, loadedFrom!);

        if (!s_resolverRegistered)
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
            s_resolverRegistered = true;
        }

        s_loadedFrom = loadedFrom;
        Volatile.Write(ref s_handle, handle);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.LibraryName)
        {
            return IntPtr.Zero;
        }

        // Every P/Invoke is preceded by EnsureLoaded; this also covers a first call from any other path.
        EnsureLoaded();
        return s_handle;
    }

    /// <summary>The files probed, in order, when no path is configured: for each base directory, the library
    /// beside the assembly, under runtimes/&lt;rid&gt;/native/ (NuGet's layout), and under &lt;rid&gt;/ (a PowerShell
    /// module's layout).</summary>
    internal static IReadOnlyList<string> DefaultCandidates(IEnumerable<string> baseDirectories)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (string directory in baseDirectories)
        {
            // Beside the assembly (an application's output folder).
            foreach (string path in new[] { Path.Combine(directory, FileName) }
                .Concat(RuntimeIdentifiers().Select(rid => Path.Combine(directory, "runtimes", rid, "native", FileName)))
                .Concat(RuntimeIdentifiers().Select(rid => Path.Combine(directory, rid, FileName))))
            {
                if (seen.Add(path))
                {
                    result.Add(path);
                }
            }
        }

        return result;
    }

    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Empty in single-file applications; AppContext.BaseDirectory is tried next.")]
    internal static IEnumerable<string> BaseDirectories(Assembly assembly)
    {
        string location = assembly.Location; // empty in single-file applications
        if (!string.IsNullOrEmpty(location))
        {
            yield return Path.GetDirectoryName(Path.GetFullPath(location))!;
        }

        yield return Path.GetFullPath(AppContext.BaseDirectory);
    }

    /// <summary>The runtime identifiers to look under: the runtime's own, then the portable one.</summary>
    internal static IReadOnlyList<string> RuntimeIdentifiers()
    {
        string architecture = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var result = new List<string>();
        void Add(string rid)
        {
            if (!result.Contains(rid))
            {
                result.Add(rid);
            }
        }

        Add(RuntimeInformation.RuntimeIdentifier);
        Add(os + "-" + architecture);
        return result;
    }

    private static bool TryLoadFile(string path, string suffix, List<string> attempts, ref IntPtr handle, ref string? loadedFrom)
    {
        if (!File.Exists(path))
        {
            attempts.Add($"{path}{suffix}: no such file");
            return false;
        }

        try
        {
            handle = NativeLibrary.Load(path);
            loadedFrom = path;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            // The runtime's message carries the loader's own (dlerror / LoadLibrary) text.
            attempts.Add($"{path}{suffix}: {OneLine(e.Message)}");
            return false;
        }
    }

    private static void CheckVersion(IntPtr handle, string loadedFrom)
    {
        if (!NativeLibrary.TryGetExport(handle, "circleloss_version", out IntPtr versionExport))
        {
            NativeLibrary.Free(handle);
            throw new CircleLossNativeLibraryException(
                $"{loadedFrom} was loaded but has no circleloss_version export: it is not the CircleLoss native library.",
                new[] { $"{loadedFrom}: no circleloss_version export" });
        }

        int version = ((delegate* unmanaged<int>)versionExport)();
        int major = version / 10000;
        int minor = version / 100 % 100;
        bool compatible = major == NativeConstants.CIRCLELOSS_VERSION_MAJOR
            && (major != 0 || minor == NativeConstants.CIRCLELOSS_VERSION_MINOR) // 0.x: minor versions may break
            && version >= NativeConstants.CIRCLELOSS_VERSION_NUMBER;
        if (!compatible)
        {
            NativeLibrary.Free(handle);
            string found = $"{major}.{minor}.{version % 100}";
            throw new CircleLossNativeLibraryException(
                $"{loadedFrom} is version {found}, but these bindings were generated from version {NativeConstants.CIRCLELOSS_VERSION_STRING} "
                + $"of circleloss.h and need {NativeConstants.CIRCLELOSS_VERSION_MAJOR}.{NativeConstants.CIRCLELOSS_VERSION_MINOR}.x "
                + $"at or above {NativeConstants.CIRCLELOSS_VERSION_STRING}. Use the native library of the same release as CircleLoss.Interop.",
                new[] { $"{loadedFrom}: version {found}, not compatible with {NativeConstants.CIRCLELOSS_VERSION_STRING}" });
        }
    }

    private static string FailureMessage(List<string> attempts, string? overrideSource)
    {
        var sb = new StringBuilder();
        sb.Append("The CircleLoss native library (").Append(FileName).Append(") could not be loaded. Tried:");
        for (int i = 0; i < attempts.Count; i++)
        {
            sb.Append('\n').Append("  ").Append(i + 1).Append(". ").Append(attempts[i]);
        }

        sb.Append("\nLikely causes:");
        if (overrideSource is not null)
        {
            sb.Append("\n  - ").Append(overrideSource).Append(" names a file or folder without the library ")
              .Append("(a folder must hold ").Append(FileName).Append(").");
        }

        sb.Append("\n  - The file is missing: reference the runtime package for ").Append(RuntimeIdentifiers()[^1])
          .Append(", or copy ").Append(FileName).Append(" beside CircleLoss.Interop.dll, under runtimes/<rid>/native/, or under <rid>/.");
        sb.Append("\n  - A library it depends on is missing or too old (for example libstdc++ or libgomp): run `ldd <path>` on it")
          .Append(OperatingSystem.IsWindows() ? " (on Windows: `dumpbin /dependents`)" : "").Append(" to see which.");
        sb.Append("\n  - It was built for another processor architecture or operating system than this process (")
          .Append(RuntimeInformation.ProcessArchitecture).Append(").");
        sb.Append("\nSet ").Append(nameof(CircleLossLibrary)).Append('.').Append(nameof(CircleLossLibrary.NativeLibraryPath))
          .Append(" before the first use, or the environment variable ").Append(EnvironmentVariable)
          .Append(", to the library's file or folder.");
        return sb.ToString();
    }

    private static string OneLine(string text) => text.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim();
}
