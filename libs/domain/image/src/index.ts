export { DISK_FORMATS, GLANCE_CONTAINER_FORMATS, GLANCE_DISK_FORMATS, isDiskFormat, isGlanceDiskFormat, isUninspectedDiskFormat } from './disk-format';
export type { DiskFormat } from './disk-format';
export type {
  ImageInspection,
  Qcow2Details,
  VmdkDetails,
  VmdkExtent,
  VhdDetails,
  VhdxDetails,
  IsoDetails,
} from './image-inspection';
export { createFormatInspector, inspectImageBytes, INSPECTOR_HEAD_BYTES } from './format-inspector';
export type { FormatInspector } from './format-inspector';
export { validateImageUpload, SAFE_VMDK_CREATE_TYPES } from './validate-image-upload';
export type { ImageUploadCheck } from './validate-image-upload';
export { IMAGE_STATUSES, transition, nextImageStatus } from './image-status';
export type { ImageStatus, ImageEvent } from './image-status';
export { buildSnapshotQcow2, SNAPSHOT_CLUSTER_BITS } from './snapshot-qcow2';
