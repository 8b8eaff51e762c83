using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace CircleLoss.Interop.TorchSharp;

/// <summary>
/// Makes TorchSharp 0.107's native library loadable on Linux distributions whose libstdc++ predates GCC 13 (Debian 12,
/// Ubuntu 22.04). Its <c>libLibTorchSharp.so</c> asks for <c>GLIBCXX_3.4.32</c> for exactly one symbol,
/// <c>std::ios_base_library_init()</c>: a link-time marker GCC 13 emits in every object that includes
/// &lt;iostream&gt;, with no relocation against it (it is never called or bound). Those distributions' libstdc++ stops
/// at 3.4.30 (GCC 12), so the dynamic loader refuses the library and every TorchSharp
/// call fails at type initialisation.
/// </summary>
/// <remarks>
/// <see cref="Prepare"/> touches neither the system nor the NuGet cache: it edits the copy of libLibTorchSharp.so in
/// an application's own output folder, marking that one version requirement weak (ELF <c>VER_FLG_WEAK</c> on the
/// <c>Vernaux</c> entry), which glibc's loader accepts when the version is missing. It does so only when the
/// process's libstdc++ lacks the version, and only after checking that no symbol of that version other than the
/// marker is imported (so nothing can ever be bound to it). Call it first thing in <c>Main</c>, before any TorchSharp
/// type is used. Newer distributions (Debian 13, Ubuntu 24.04, RHEL 10) need nothing.
/// </remarks>
public static class LibTorchSharpCompatibility
{
    private const string NeededVersion = "GLIBCXX_3.4.32";
    private const string NeededFile = "libstdc++.so.6";
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Marks the requirement weak in the copy of libLibTorchSharp.so under <paramref name="directory"/> (or
    /// its <c>runtimes/linux-x64/native</c> folder) when this process's libstdc++ lacks it.</summary>
    /// <param name="directory">The application's folder; null for <see cref="AppContext.BaseDirectory"/>.</param>
    /// <returns>A line saying what was done, or why nothing was needed.</returns>
    /// <exception cref="InvalidDataException">The library is not a little-endian ELF64 file, or another symbol needs
    /// the version (the file is then left as it is).</exception>
    public static string Prepare(string? directory = null)
    {
        directory ??= AppContext.BaseDirectory;
        if (!OperatingSystem.IsLinux())
        {
            return "LibTorchSharp compatibility: not Linux; nothing to do.";
        }

        string library = Path.Combine(directory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(library))
        {
            library = Path.Combine(directory, "libLibTorchSharp.so");
        }

        if (!File.Exists(library))
        {
            return $"LibTorchSharp compatibility: {library} not found; nothing to do.";
        }

        string? libstdcxx = LoadedLibstdcxx();
        if (libstdcxx is not null && Contains(File.ReadAllBytes(libstdcxx), NeededVersion))
        {
            return $"LibTorchSharp compatibility: {libstdcxx} defines {NeededVersion}; no change needed.";
        }

        byte[] elf = File.ReadAllBytes(library);
        string result = MarkWeak(elf, NeededFile, NeededVersion);
        if (result.StartsWith("patched", StringComparison.Ordinal))
        {
            string temporary = library + ".tmp";
            File.WriteAllBytes(temporary, elf);
            File.Move(temporary, library, overwrite: true);
        }

        return $"LibTorchSharp compatibility: {library}: {result} (system libstdc++: {libstdcxx ?? "not found in /proc/self/maps"}).";
    }

    private static string? LoadedLibstdcxx()
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && line.Contains("/libstdc++.so", StringComparison.Ordinal))
            {
                return line[slash..];
            }
        }

        return null;
    }

    private static bool Contains(byte[] data, string text) =>
        data.AsSpan().IndexOf(Encoding.ASCII.GetBytes(text + "\0")) >= 0;

    /// <summary>Sets VER_FLG_WEAK on the version requirement (file, version) of an ELF64 little-endian image.</summary>
    internal static string MarkWeak(byte[] elf, string file, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a little-endian ELF64 file");
        }

        byte[] s = elf;
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(s.AsSpan(0x28));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan(0x3A));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan(0x3C));

        (uint Type, long Offset, long Size, uint Link) Section(int i)
        {
            ReadOnlySpan<byte> h = s.AsSpan((int)(shoff + (long)i * shentsize), shentsize);
            return (BinaryPrimitives.ReadUInt32LittleEndian(h[4..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(h[0x18..]),
                (long)BinaryPrimitives.ReadUInt64LittleEndian(h[0x20..]), BinaryPrimitives.ReadUInt32LittleEndian(h[0x28..]));
        }

        int verneed = -1, versym = -1, dynsym = -1;
        for (int i = 0; i < shnum; i++)
        {
            switch (Section(i).Type)
            {
                case 0x6ffffffe: verneed = i; break; // SHT_GNU_verneed
                case 0x6fffffff: versym = i; break; // SHT_GNU_versym
                case 11: dynsym = i; break; // SHT_DYNSYM
            }
        }

        if (verneed < 0 || versym < 0 || dynsym < 0)
        {
            return "no version requirements; nothing to do";
        }

        var need = Section(verneed);
        long strtab = Section((int)need.Link).Offset;
        string Str(uint offset)
        {
            int start = (int)(strtab + offset);
            int end = Array.IndexOf(s, (byte)0, start) - start;
            return Encoding.ASCII.GetString(s, start, end);
        }

        long entry = need.Offset;
        while (true)
        {
            ushort count = BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan((int)(entry + 2)));
            string fileName = Str(BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)(entry + 4))));
            long aux = entry + BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)(entry + 8)));
            for (int a = 0; a < count; a++)
            {
                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan((int)(aux + 4)));
                ushort index = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan((int)(aux + 6))) & 0x7fff);
                string name = Str(BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)(aux + 8))));
                if (fileName == file && name == version)
                {
                    if ((flags & VerFlagWeak) != 0)
                    {
                        return $"{version} of {file} is already weak";
                    }

                    string symbols = SymbolsOfVersion(s, Section(dynsym), Section(versym), Section((int)Section(dynsym).Link).Offset, index);
                    BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan((int)(aux + 4)), (ushort)(flags | VerFlagWeak));
                    return $"patched: {version} of {file} marked weak (symbols of that version: {symbols})";
                }

                uint nextAux = BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)(aux + 12)));
                if (nextAux == 0)
                {
                    break;
                }

                aux += nextAux;
            }

            uint next = BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)(entry + 12)));
            if (next == 0)
            {
                return $"{file} {version} is not required; nothing to do";
            }

            entry += next;
        }
    }

    private static string SymbolsOfVersion(byte[] s, (uint Type, long Offset, long Size, uint Link) dynsym,
        (uint Type, long Offset, long Size, uint Link) versym, long dynstr, ushort index)
    {
        var names = new StringBuilder();
        long count = dynsym.Size / 24;
        for (long i = 0; i < count; i++)
        {
            ushort v = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan((int)(versym.Offset + i * 2))) & 0x7fff);
            if (v != index)
            {
                continue;
            }

            long sym = dynsym.Offset + i * 24;
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan((int)(sym + 6)));
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan((int)sym));
            int start = (int)(dynstr + nameOffset);
            string name = Encoding.ASCII.GetString(s, start, Array.IndexOf(s, (byte)0, start) - start);
            if (shndx != 0)
            {
                throw new InvalidDataException($"{name} is defined, not imported, with the version to be weakened; refusing to patch.");
            }

            if (name != "_ZSt21ios_base_library_initv")
            {
                throw new InvalidDataException($"{name} needs the version to be weakened and may be called; refusing to patch.");
            }

            names.Append(name).Append(' ');
        }

        return names.ToString().Trim();
    }
}
