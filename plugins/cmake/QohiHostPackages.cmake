# Finds the development packages of the plugin hosts, quietly, and sets
# QOHI_HAVE_IMAGEMAGICK, QOHI_HAVE_GIMP and QOHI_HAVE_QT for the options'
# defaults. Included from the top-level CMakeLists.txt before the options.
#
# Found packages (pkg-config prefix QOHI_MAGICKCORE, QOHI_MAGICKXX, QOHI_GIMP;
# Qt5::Gui) are used by plugins/*/CMakeLists.txt.

find_package(PkgConfig QUIET)

set(QOHI_HAVE_IMAGEMAGICK OFF)
set(QOHI_HAVE_GIMP OFF)
if(PkgConfig_FOUND)
  # ImageMagick 6 (Debian's libmagickcore-6.q16-dev): the coder is written
  # against the IM6 MagickCore API; IM7 differs and is not supported.
  foreach(_qohi_quantum Q16 Q8)
    pkg_check_modules(QOHI_MAGICKCORE QUIET IMPORTED_TARGET MagickCore-6.${_qohi_quantum})
    if(QOHI_MAGICKCORE_FOUND)
      set(QOHI_MAGICK_QUANTUM ${_qohi_quantum})
      set(QOHI_HAVE_IMAGEMAGICK ON)
      # Magick++ is only needed by a test program.
      pkg_check_modules(QOHI_MAGICKXX QUIET IMPORTED_TARGET Magick++-6.${_qohi_quantum})
      break()
    endif()
  endforeach()

  # GIMP 2.10: libgimp for the PDB, libgimpui for the export dialog.
  pkg_check_modules(QOHI_GIMP QUIET IMPORTED_TARGET gimp-2.0>=2.10 gimpui-2.0>=2.10)
  if(QOHI_GIMP_FOUND)
    set(QOHI_HAVE_GIMP ON)
  endif()
endif()

find_package(Qt5 5.9 QUIET COMPONENTS Gui)
if(Qt5Gui_FOUND)
  set(QOHI_HAVE_QT ON)
else()
  set(QOHI_HAVE_QT OFF)
endif()
