using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>Paths the build recorded in the test assembly.</summary>
internal static class TestEnvironment
{
    private static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"no {key} metadata");

    public static string RepoRoot => Path.GetFullPath(Metadata("RepoRoot"));

    public static string NativeDir => Path.GetFullPath(Metadata("CircleLossNativeDir"));

    public static string OutputDir => AppContext.BaseDirectory;

    public static string GoldenDir => Path.Combine(OutputDir, "golden");

    public static string HeaderIncludeDir => Path.Combine(RepoRoot, "native", "include");
}
