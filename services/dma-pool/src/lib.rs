//! Per-device coherent DMA pool logic for dmad (filled by the dma-pool work).
#![no_std]
#![forbid(unsafe_code)]
