using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Generated;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>
/// The generated structs and enums have the native layout: the CLR's layout is compared with libclang's (recorded by
/// the generator) and with what a C compiler says about the header.
/// </summary>
public class LayoutTests
{
    public static TheoryData<string> StructNames() => [.. NativeLayout.Structs.Select(s => s.Name)];

    [Fact]
    public void The_layout_data_covers_every_generated_struct_and_enum()
    {
        Type[] generated = typeof(NativeMethods).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(NativeMethods).Namespace && t.Name.StartsWith("circleloss_", StringComparison.Ordinal))
            .ToArray();
        Assert.Equal(
            generated.Where(t => t.IsValueType && !t.IsEnum && t.GetFields(BindingFlags.Instance | BindingFlags.Public).Length > 0).Select(t => t.Name).Order(),
            NativeLayout.Structs.Select(s => s.Name).Order());
        Assert.Equal(generated.Where(t => t.IsEnum).Select(t => t.Name).Order(), NativeLayout.Enums.Select(e => e.Name).Order());
        Assert.Contains(NativeLayout.Structs, s => s.Name == "circleloss_problem");
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void Generated_struct_has_the_layout_libclang_computed(string name)
    {
        NativeStructLayout s = NativeLayout.Structs.Single(x => x.Name == name);
        Assert.Equal(s.Size, Marshal.SizeOf(s.ManagedType));
        FieldInfo[] fields = s.ManagedType.GetFields(BindingFlags.Instance | BindingFlags.Public);
        Assert.Equal(s.Fields.Select(f => f.Name), fields.Select(f => f.Name));
        foreach (NativeFieldLayout f in s.Fields)
        {
            Assert.Equal(f.Offset, (long)Marshal.OffsetOf(s.ManagedType, f.Name));
            Type fieldType = s.ManagedType.GetField(f.Name)!.FieldType;
            Assert.Equal(f.Size, fieldType.IsPointer ? IntPtr.Size : Marshal.SizeOf(fieldType.IsEnum ? Enum.GetUnderlyingType(fieldType) : fieldType));
        }
    }

    [Fact]
    public void Generated_enums_have_the_values_libclang_computed()
    {
        foreach (NativeEnumLayout e in NativeLayout.Enums)
        {
            Assert.Equal(e.Members.Select(m => m.Name), Enum.GetNames(e.ManagedType));
            Assert.Equal(e.Members.Select(m => m.Value), Enum.GetValues(e.ManagedType).Cast<object>().Select(Convert.ToInt64));
            Assert.Equal(e.Size, Marshal.SizeOf(Enum.GetUnderlyingType(e.ManagedType)));
        }
    }

    public static TheoryData<Type, Type, string> PublicEnums() => new()
    {
        { typeof(Backend), typeof(circleloss_backend), "CIRCLELOSS_BACKEND_" },
        { typeof(Reduction), typeof(circleloss_reduction), "CIRCLELOSS_REDUCTION_" },
        { typeof(GradientMode), typeof(circleloss_gradient_mode), "CIRCLELOSS_GRADIENT_" },
        { typeof(CircleLossStatus), typeof(circleloss_status), "CIRCLELOSS_STATUS_" },
    };

    [Theory]
    [MemberData(nameof(PublicEnums))]
    public void Public_enums_mirror_the_native_ones(Type publicEnum, Type nativeEnum, string prefix)
    {
        // Reduction.SumOverBatchSize ↔ CIRCLELOSS_REDUCTION_SUM_OVER_BATCH_SIZE, with the same value.
        string[] publicNames = Enum.GetNames(publicEnum);
        Assert.Equal(Enum.GetNames(nativeEnum).Length, publicNames.Length);
        foreach (string name in publicNames)
        {
            string nativeName = prefix + string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
            Assert.True(Enum.IsDefined(nativeEnum, Enum.Parse(nativeEnum, nativeName)), nativeName);
            Assert.Equal(Convert.ToInt64(Enum.Parse(nativeEnum, nativeName)), Convert.ToInt64(Enum.Parse(publicEnum, name)));
        }
    }

    [Fact]
    public void A_C_compiler_agrees_with_the_generated_layout()
    {
        string? compiler = FindCompiler();
        if (compiler is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("CIRCLELOSS_TESTS_WITHOUT_CC") == "1",
                "No C compiler (cc, gcc, clang) on PATH: install one, or set CIRCLELOSS_TESTS_WITHOUT_CC=1 to leave this check out.");
            return;
        }

        string folder = Directory.CreateTempSubdirectory("circleloss-layout-").FullName;
        try
        {
            string source = Path.Combine(folder, "layout.c"), program = Path.Combine(folder, "layout");
            File.WriteAllText(source, CProgram());
            Run(compiler, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-I", TestEnvironment.HeaderIncludeDir, source, "-o", program]);
            Dictionary<string, string> facts = Run(program, [])
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', 2))
                .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

            foreach (NativeStructLayout s in NativeLayout.Structs)
            {
                Assert.Equal($"{Marshal.SizeOf(s.ManagedType)} {s.Alignment}", facts["struct:" + s.Name]);
                foreach (NativeFieldLayout f in s.Fields)
                {
                    Assert.Equal($"{(long)Marshal.OffsetOf(s.ManagedType, f.Name)} {f.Size}", facts[$"field:{s.Name}.{f.Name}"]);
                }
            }

            foreach (NativeEnumLayout e in NativeLayout.Enums)
            {
                Assert.Equal(Marshal.SizeOf(Enum.GetUnderlyingType(e.ManagedType)).ToString(CultureInfo.InvariantCulture), facts["enum:" + e.Name]);
                foreach (string name in Enum.GetNames(e.ManagedType))
                {
                    Assert.Equal(Convert.ToInt64(Enum.Parse(e.ManagedType, name)).ToString(CultureInfo.InvariantCulture), facts["value:" + name]);
                }
            }

            foreach (FieldInfo constant in typeof(NativeConstants).GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                Assert.Equal(Convert.ToString(constant.GetRawConstantValue(), CultureInfo.InvariantCulture), facts["macro:" + constant.Name]);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A C program that prints sizeof/offsetof/values for every struct, field, enum and constant the bindings have.</summary>
    private static string CProgram()
    {
        var c = new StringBuilder();
        c.Append("#include <stddef.h>\n#include <stdio.h>\n#include <circleloss/circleloss.h>\n\n");
        foreach (NativeStructLayout s in NativeLayout.Structs)
        {
            c.Append($"struct align_{s.Name} {{ char c; {s.Name} x; }};\n");
        }

        c.Append("\nint main(void) {\n");
        foreach (NativeStructLayout s in NativeLayout.Structs)
        {
            c.Append($"    printf(\"struct:{s.Name} %zu %zu\\n\", sizeof({s.Name}), offsetof(struct align_{s.Name}, x));\n");
            foreach (NativeFieldLayout f in s.Fields)
            {
                c.Append($"    printf(\"field:{s.Name}.{f.Name} %zu %zu\\n\", offsetof({s.Name}, {f.Name}), sizeof((({s.Name}*)0)->{f.Name}));\n");
            }
        }

        foreach (NativeEnumLayout e in NativeLayout.Enums)
        {
            c.Append($"    printf(\"enum:{e.Name} %zu\\n\", sizeof({e.Name}));\n");
            foreach (string name in Enum.GetNames(e.ManagedType))
            {
                c.Append($"    printf(\"value:{name} %lld\\n\", (long long){name});\n");
            }
        }

        foreach (FieldInfo constant in typeof(NativeConstants).GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
        {
            c.Append(constant.FieldType == typeof(string)
                ? $"    printf(\"macro:{constant.Name} %s\\n\", {constant.Name});\n"
                : $"    printf(\"macro:{constant.Name} %lld\\n\", (long long){constant.Name});\n");
        }

        c.Append("    return 0;\n}\n");
        return c.ToString();
    }

    private static string? FindCompiler()
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return new[] { Environment.GetEnvironmentVariable("CC"), "cc", "gcc", "clang" }
            .Where(name => !string.IsNullOrEmpty(name))
            .SelectMany(name => Path.IsPathRooted(name!) ? [name!] : path.Select(dir => Path.Combine(dir, name!)))
            .FirstOrDefault(File.Exists);
    }

    private static string Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed ({process.ExitCode}): {error}");
        return output;
    }
}
