// The bindings generator: parses native/include/circleloss/circleloss.h with libclang and writes
//   src/CircleLoss.Interop/Native/NativeMethods.*.g.cs         (the internal P/Invoke layer, a file per job:
//                                                               Enums (and constants), Structs, Functions)
//   tests/CircleLoss.Interop.Tests/Generated/NativeLayout.g.cs  (libclang's struct layouts, for the layout tests)
// It owns the *.g.cs files of those two folders: regenerating removes one it no longer writes, and --check
// counts one as a difference.
//
// Usage: CircleLoss.Bindings.Generator [--check] [--root DIR] [--out-dir DIR] [--builtin-include DIR]
//   (no option)          regenerate the files in place
//   --check              regenerate in memory and compare with the files; exit 1 on any difference
//   --out-dir DIR        write the files under DIR (same relative paths) instead of the repository
//   --root DIR           the repository root (default: found upwards from the current directory)
//   --builtin-include D  the folder with stddef.h & co. (default: `cc -print-file-name=include`);
//                        the libclang package lacks clang's builtin headers
// Exit codes: 0 done (or no difference), 1 difference found by --check, 2 error.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CircleLoss.Bindings.Generator;

const string HeaderRelativePath = "native/include/circleloss/circleloss.h";
const string NativeMethodsRelativeDirectory = "src/CircleLoss.Interop/Native";
const string LayoutRelativePath = "tests/CircleLoss.Interop.Tests/Generated/NativeLayout.g.cs";
const string NativeNamespace = "CircleLoss.Interop.Native";
const string LayoutNamespace = "CircleLoss.Interop.Tests.Generated";
const string LibraryName = "circleloss";
const string Prefix = "circleloss_";
// Layouts are computed for one target so that the output does not depend on the machine that runs the
// generator. The header uses fixed-width types only, so the layout is the same on every 64-bit target.
const string Target = "x86_64-unknown-linux-gnu";

try
{
    bool check = false;
    string? root = null;
    string? outDir = null;
    string? builtinInclude = Environment.GetEnvironmentVariable("CIRCLELOSS_CLANG_BUILTIN_INCLUDE");
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--check":
                check = true;
                break;
            case "--root":
                root = Value(args, ref i);
                break;
            case "--out-dir":
                outDir = Value(args, ref i);
                break;
            case "--builtin-include":
                builtinInclude = Value(args, ref i);
                break;
            case "-h":
            case "--help":
                Console.WriteLine("Usage: CircleLoss.Bindings.Generator [--check] [--root DIR] [--out-dir DIR] [--builtin-include DIR]");
                return 0;
            default:
                throw new GeneratorException($"unknown argument '{args[i]}' (see --help)");
        }
    }

    if (check && outDir is not null)
    {
        throw new GeneratorException("--check and --out-dir exclude each other.");
    }

    root = Path.GetFullPath(root ?? FindRoot(HeaderRelativePath));
    string header = Path.Combine(root, HeaderRelativePath);
    if (!File.Exists(header))
    {
        throw new GeneratorException($"header not found: {header}");
    }

    builtinInclude ??= CompilerIncludeDirectory();
    if (!File.Exists(Path.Combine(builtinInclude, "stddef.h")))
    {
        throw new GeneratorException($"no stddef.h in the builtin include folder {builtinInclude}; pass --builtin-include DIR.");
    }

    var clangArguments = new List<string>
    {
        "-x", "c", "-std=c99", "--target=" + Target, "-fparse-all-comments",
        "-isystem", builtinInclude,
        "-I", Path.Combine(root, "native", "include"),
    };

    HeaderModel model = HeaderParser.Parse(header, HeaderRelativePath, clangArguments, Prefix);
    var outputs = new List<(string RelativePath, string Text)>();
    foreach (var (fileName, text) in CSharpEmitter.EmitNativeMethods(model, NativeNamespace, LibraryName))
    {
        outputs.Add((NativeMethodsRelativeDirectory + "/" + fileName, text));
    }

    outputs.Add((LayoutRelativePath, CSharpEmitter.EmitLayout(model, LayoutNamespace, NativeNamespace, Target)));
    List<string> stale = StaleGeneratedFiles(root, outputs.ConvertAll(o => o.RelativePath));

    if (check)
    {
        bool same = true;
        foreach (var (relativePath, text) in outputs)
        {
            string path = Path.Combine(root, relativePath);
            string current = File.Exists(path) ? File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal) : "";
            if (current != text)
            {
                same = false;
                Console.Error.WriteLine($"bindings drift: {relativePath} differs from what {HeaderRelativePath} generates.");
                ReportFirstDifferences(current, text);
            }
        }

        foreach (string relativePath in stale)
        {
            same = false;
            Console.Error.WriteLine($"bindings drift: {relativePath} is no longer generated from {HeaderRelativePath}; remove it.");
        }

        if (!same)
        {
            Console.Error.WriteLine("Run bindings/generate.sh and commit the result.");
            return 1;
        }

        Console.WriteLine($"bindings up to date with {HeaderRelativePath} ({model.Functions.Count} functions, {model.Structs.Count} structs, {model.Enums.Count} enums, {model.Constants.Count} constants).");
        return 0;
    }

    foreach (var (relativePath, text) in outputs)
    {
        string path = Path.Combine(outDir ?? root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && File.ReadAllText(path) == text)
        {
            Console.WriteLine($"unchanged {path}");
            continue;
        }

        File.WriteAllText(path, text);
        Console.WriteLine($"wrote {path}");
    }

    if (outDir is null)
    {
        foreach (string relativePath in stale)
        {
            File.Delete(Path.Combine(root, relativePath));
            Console.WriteLine($"removed {Path.Combine(root, relativePath)} (no longer generated)");
        }
    }

    return 0;
}
catch (GeneratorException e)
{
    Console.Error.WriteLine("bindings generator: " + e.Message);
    return 2;
}
catch (DllNotFoundException e)
{
    Console.Error.WriteLine("bindings generator: libclang could not be loaded (the generator needs the libclang.runtime.linux-x64 package and runs on linux-x64): " + e.Message);
    return 2;
}

static string Value(string[] args, ref int i)
{
    if (i + 1 >= args.Length)
    {
        throw new GeneratorException($"{args[i]} needs a value.");
    }

    return args[++i];
}

// The *.g.cs files in the folders the generator writes to that it does not write (left from an older layout of the
// output), as paths relative to the root with '/'.
static List<string> StaleGeneratedFiles(string root, List<string> generated)
{
    var stale = new List<string>();
    foreach (string directory in generated.ConvertAll(p => p[..p.LastIndexOf('/')]).Distinct())
    {
        string full = Path.Combine(root, directory);
        if (!Directory.Exists(full))
        {
            continue;
        }

        foreach (string file in Directory.GetFiles(full, "*.g.cs").Order(StringComparer.Ordinal))
        {
            string relativePath = directory + "/" + Path.GetFileName(file);
            if (!generated.Contains(relativePath))
            {
                stale.Add(relativePath);
            }
        }
    }

    return stale;
}

static string FindRoot(string headerRelativePath)
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, headerRelativePath)))
        {
            return dir.FullName;
        }
    }

    throw new GeneratorException($"no {headerRelativePath} above {Directory.GetCurrentDirectory()}; pass --root DIR.");
}

// gcc's builtin headers (stddef.h, stdint.h wrapper, ...) stand in for clang's, which the package lacks.
static string CompilerIncludeDirectory()
{
    foreach (string compiler in new[] { "cc", "gcc", "clang" })
    {
        try
        {
            var start = new ProcessStartInfo(compiler, "-print-file-name=include")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && Path.IsPathRooted(output) && Directory.Exists(output))
            {
                return output;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not installed: try the next one.
        }
    }

    throw new GeneratorException("no C compiler found to locate stddef.h (tried cc, gcc, clang); pass --builtin-include DIR "
        + "or set CIRCLELOSS_CLANG_BUILTIN_INCLUDE.");
}

static void ReportFirstDifferences(string current, string expected)
{
    string[] a = current.Split('\n');
    string[] b = expected.Split('\n');
    int shown = 0;
    for (int line = 0; line < Math.Max(a.Length, b.Length) && shown < 10; line++)
    {
        string left = line < a.Length ? a[line] : "<end of file>";
        string right = line < b.Length ? b[line] : "<end of file>";
        if (left != right)
        {
            Console.Error.WriteLine($"  line {line + 1}:");
            Console.Error.WriteLine($"    committed: {left}");
            Console.Error.WriteLine($"    generated: {right}");
            shown++;
        }
    }
}
