import { reviews } from '../../catalog-data'

export default (args: { product_id: string }) => reviews(args.product_id)
